/// Permits for fetches: at most `total` at once, and at most `perHost` to any one host. A
/// task waits for its host's permit first and then for a total one, so tasks queued behind a
/// busy host hold no total permit that another host could use. Waiters are served in order.
actor ConcurrencyLimiter {
    private let total: Int
    private let perHost: Int
    private var inUse = 0
    private var hostsInUse: [String: Int] = [:]
    private var totalWaiters: [CheckedContinuation<Void, Never>] = []
    private var hostWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(total: Int, perHost: Int) {
        self.total = max(1, total)
        self.perHost = max(1, perHost)
    }

    /// Runs `body` holding a permit for `host`.
    nonisolated func withPermit<T: Sendable>(host: String, _ body: @Sendable () async -> T) async -> T {
        await acquire(host: host)
        await acquireTotal()
        let value = await body()
        await release(host: host)
        return value
    }

    private func acquire(host: String) async {
        if hostsInUse[host, default: 0] < perHost {
            hostsInUse[host, default: 0] += 1
            return
        }
        await withCheckedContinuation { hostWaiters[host, default: []].append($0) }   // the releaser counted us in
    }

    private func acquireTotal() async {
        if inUse < total {
            inUse += 1
            return
        }
        await withCheckedContinuation { totalWaiters.append($0) }
    }

    private func release(host: String) {
        if totalWaiters.isEmpty {
            inUse -= 1
        } else {
            totalWaiters.removeFirst().resume()
        }
        if var waiting = hostWaiters[host], !waiting.isEmpty {
            let next = waiting.removeFirst()
            hostWaiters[host] = waiting.isEmpty ? nil : waiting
            next.resume()
        } else {
            hostsInUse[host, default: 1] -= 1
            if hostsInUse[host] == 0 { hostsInUse[host] = nil }
        }
    }
}
