import Foundation
import XCTest
@testable import VLP
@testable import VLPDownload

/// `vlp data download` against a real HTTP server on 127.0.0.1 that serves real photos and
/// misbehaves on purpose: every fault ends in its recorded reason and the run completes.
final class DataDownloadTests: TorchTestCase {
    func testEveryFaultEndsInItsReason() async throws {
        let server = DownloadTestServer(images: try downloadTestPhotos())
        try await server.start()
        defer { server.stop() }
        let folder = try makeDataTestFolder()
        let b = server.base
        // (path or URL, expected status, texts)
        let cases: [(String, String)] = [
            (b + "/img/rocket.jpg", "success"),
            (b + "/img/chelsea.png", "success"),
            (b + "/status/404", "http_status"),
            (b + "/status/500", "http_status"),
            (b + "/ratelimit/retina.jpg", "success"),
            (b + "/ratelimit-long", "http_status"),
            (b + "/slow/coffee.png", "success"),
            (b + "/stall", "timeout"),
            (b + "/cut", "interrupted"),
            (b + "/loop/a", "redirects"),
            (b + "/html", "not_an_image"),
            (b + "/big", "too_large"),
            (b + "/big-chunked", "too_large"),
            (b + "/optout/noai/rocket.jpg", "opted_out"),
            (b + "/optout/otherbot:%20noai/astronaut.png", "success"),
            (b + "/optout/noindex/pattern.png", "success"),
            (b + "/img/rocket-copy.jpg", "duplicate"),
            (b + "/img/small.jpg", "too_small"),
            (b + "/img/rocket-cut.jpg", "decode_error"),
            (b + "/img/wide.png", "aspect_ratio"),
            ("http://127.0.0.1:1/closed-port.jpg", "connect"),
            ("ftp://127.0.0.1/a.jpg", "invalid_url"),
            (b + "/redirect/hubble_deep_field.jpg", "success"),
            (b + "/optout/noimageai,%20nofollow/chelsea.png", "opted_out"),
        ]
        let list = folder + "/list.jsonl"
        try writeURLList(cases.enumerated().map { index, item in
            ["id": "z\(index)", "url": item.0, "title": "标题 \(index)", "query": ["查询 \(index)", "second \(index)"], "lang": "zh"]
        }, to: list)

        var options = DatasetDownloader.Options(list: list, output: folder + "/out", fetcher: downloadTestSettings())
        options.samplesPerShard = 10
        options.admission = ImageAdmission(minSide: 100, maxAspect: 3)
        options.showsProgress = false
        let started = Date()
        let summary = try await DatasetDownloader(options: options).run()
        let seconds = Date().timeIntervalSince(started)

        let records = try readShardStats(folder + "/out").flatMap(\.records)
        XCTAssertEqual(records.map(\.row), Array(0..<cases.count))
        for (record, expected) in zip(records, cases) {
            let status: String
            switch record.status {
            case .success: status = "success"
            case .failed(let reason): status = reason.rawValue
            }
            XCTAssertEqual(status, expected.1, "\(expected.0): \(record.detail ?? "")")
            print("row \(record.row) \(expected.0.replacingOccurrences(of: b, with: "")): \(status)\(record.httpStatus.map { " \($0)" } ?? "") \(record.detail ?? "")")
        }
        XCTAssertEqual(records[2].httpStatus, 404)
        XCTAssertEqual(records[2].transient, false)
        XCTAssertEqual(records[3].httpStatus, 500)
        XCTAssertEqual(records[3].transient, true)
        XCTAssertEqual(records[5].httpStatus, 429)
        XCTAssertEqual(records[16].detail, "the same bytes as row 0")
        // 500 asked twice (one retry), 404 once, the 429 with Retry-After: 1 twice, the 3600 s one once.
        XCTAssertEqual(server.count("/status/500"), 2)
        XCTAssertEqual(server.count("/status/404"), 1)
        XCTAssertEqual(server.count("/ratelimit/retina.jpg"), 2)
        XCTAssertEqual(server.count("/ratelimit-long"), 1)

        XCTAssertEqual(summary.rows, cases.count)
        XCTAssertEqual(summary.successes, 7)
        XCTAssertEqual(summary.failures["http_status"], 3)
        XCTAssertEqual(summary.failures["too_large"], 2)
        XCTAssertEqual(summary.failures["opted_out"], 2)
        XCTAssertEqual(summary.failures["dns"], 0)
        XCTAssertEqual(summary.httpStatuses, ["404": 1, "500": 1, "429": 1])
        XCTAssertEqual(summary.shards, 3)
        XCTAssertLessThan(seconds, 20)
        print("fault suite: \(cases.count) rows in \(String(format: "%.2f", seconds)) s; \(summary.text)")

        // The shards read as a dataset: ids, texts and the download metadata.
        let parts = try DatasetFormat.open(folder + "/out")
        XCTAssertEqual(parts.count, 1)
        XCTAssertTrue(parts[0].reader is WebDataset.Reader)
        let samples = try parts[0].reader.readAll()
        XCTAssertEqual(samples.map(\.id), ["z0", "z1", "z4", "z6", "z14", "z15", "z22"])
        XCTAssertEqual(samples[0].texts, [SampleText("标题 0", kind: .title, language: "zh"),
                                         SampleText("查询 0", kind: .query, language: "zh"),
                                         SampleText("second 0", kind: .query, language: "zh")])
        let statistics = try DataStatistics.gather(try DatasetFormat.open(folder + "/out"))
        XCTAssertEqual(statistics.samples, 7)
        XCTAssertEqual(statistics.skipped, 0)
        let tar = try TarReader(path: folder + "/out/000000.tar")
        var json: [String: Any]?
        while json == nil, let member = try tar.next() {
            if member.name == "000000000.json" { json = try JSONSerialization.jsonObject(with: member.data) as? [String: Any] }
        }
        XCTAssertEqual(json?["url"] as? String, b + "/img/rocket.jpg")
        XCTAssertEqual(json?["status"] as? String, "success")
        XCTAssertEqual(json?["original_width"] as? Int, 640)
        XCTAssertEqual(json?["original_height"] as? Int, 427)
        XCTAssertEqual((json?["sha256"] as? String)?.count, 64)
        // Nothing temporary left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/out").filter { $0.hasPrefix(".") }, [])
    }

    /// `--resize`: larger images become JPEGs with that shorter side; smaller ones keep their bytes.
    func testResizeKeepsOriginalSizesInTheJSON() async throws {
        let images = try downloadTestPhotos()
        let server = DownloadTestServer(images: images)
        try await server.start()
        defer { server.stop() }
        let folder = try makeDataTestFolder()
        try (server.base + "/img/chelsea.png\n" + server.base + "/img/lossy.webp\n").write(toFile: folder + "/list.txt", atomically: true, encoding: .utf8)
        var options = DatasetDownloader.Options(list: folder + "/list.txt", output: folder + "/out", fetcher: downloadTestSettings())
        options.admission = ImageAdmission(resizeShortSide: 64)
        options.showsProgress = false
        let summary = try await DatasetDownloader(options: options).run()
        XCTAssertEqual(summary.successes, 2)
        let tar = try TarReader(path: folder + "/out/000000.tar")
        var members: [String: Data] = [:]
        while let member = try tar.next() { members[member.name] = member.data }
        XCTAssertEqual(Set(members.keys), ["000000000.jpg", "000000000.json", "000000001.webp", "000000001.json"])
        let resized = try ImageDecoder().probe([UInt8](members["000000000.jpg"]!))
        XCTAssertEqual([resized.width, resized.height], [96, 64])           // 451×300 → shorter side 64
        let json = try JSONSerialization.jsonObject(with: members["000000000.json"]!) as? [String: Any]
        XCTAssertEqual(json?["original_width"] as? Int, 451)
        XCTAssertEqual(json?["width"] as? Int, 96)
        XCTAssertEqual(members["000000001.webp"], images["lossy.webp"], "a small image keeps its bytes")
    }

    /// A run stopped between shards and started again fetches no row of a complete shard and
    /// ends with shards identical to those of a run that was never stopped; `--retry-failed`
    /// then asks again only the rows that failed with a transient cause.
    func testResumeAndRetryFailed() async throws {
        let images = try downloadTestGeneratedImages(count: 24)
        let server = DownloadTestServer(images: images)
        try await server.start()
        defer { server.stop() }
        let folder = try makeDataTestFolder()
        let list = folder + "/list.jsonl"
        try writeURLList((0..<24).map { row in
            let url = row == 5 ? "/flaky/gen-5.png" : row == 9 ? "/status/404" : "/img/gen-\(row).png"
            return ["url": server.base + url, "text": "caption \(row)"]
        }, to: list)
        func options(_ run: String) -> DatasetDownloader.Options {
            var options = DatasetDownloader.Options(list: list, output: folder + "/" + run, fetcher: downloadTestSettings())
            options.samplesPerShard = 4
            options.showsProgress = false
            return options
        }
        _ = try await DatasetDownloader(options: options("whole")).run()

        // An interrupted run: shards 0–2 complete; shard 3 as a stop leaves it (a temporary
        // tar, or a tar without its stats); shards 4 and 5 not begun. Run again.
        let stopped = options("stopped")
        _ = try await DatasetDownloader(options: stopped).run()
        for shard in 3..<6 {
            try FileManager.default.removeItem(atPath: stopped.output + "/" + ShardStats.statsName(shard))
            if shard > 3 { try FileManager.default.removeItem(atPath: stopped.output + "/" + ShardStats.tarName(shard)) }
        }
        try Data("partial".utf8).write(to: URL(fileURLWithPath: stopped.output + "/.000004.tar.tmp-1-2"))
        let resumed = try await DatasetDownloader(options: stopped).run()
        XCTAssertEqual(resumed.rowsFetchedThisRun, 12)
        XCTAssertEqual(resumed.shardsWrittenThisRun, 3)
        XCTAssertEqual(resumed.rows, 24)
        for row in 0..<24 where row != 5 && row != 9 {
            XCTAssertEqual(server.count("/img/gen-\(row).png"), row < 12 ? 2 : 3, "row \(row)")
        }
        for shard in 0..<6 {
            let whole = try Data(contentsOf: URL(fileURLWithPath: folder + "/whole/" + ShardStats.tarName(shard)))
            let again = try Data(contentsOf: URL(fileURLWithPath: stopped.output + "/" + ShardStats.tarName(shard)))
            XCTAssertEqual(whole, again, "shard \(shard)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: stopped.output + "/.000004.tar.tmp-1-2"))

        // --retry-failed: the 503 row (transient) is asked again and joins its shard; the 404 is not.
        XCTAssertEqual(resumed.failures["http_status"], 2)
        server.heal()
        let flakyBefore = server.count("/flaky/gen-5.png"), missingBefore = server.count("/status/404")
        var retrying = stopped
        retrying.retriesFailed = true
        let retried = try await DatasetDownloader(options: retrying).run()
        XCTAssertEqual(server.count("/flaky/gen-5.png"), flakyBefore + 1)
        XCTAssertEqual(server.count("/status/404"), missingBefore)
        XCTAssertEqual(retried.rowsFetchedThisRun, 1)
        XCTAssertEqual(retried.successes, 23)
        XCTAssertEqual(retried.failures["http_status"], 1)
        // Another list in the same folder is refused, not mixed in.
        let other = folder + "/other.jsonl"
        try writeURLList((0..<24).map { ["url": server.base + "/img/gen-\(23 - $0).png"] }, to: other)
        var mixing = stopped
        mixing.list = other
        do {
            _ = try await DatasetDownloader(options: mixing).run()
            XCTFail("a folder of another list's shards was resumed")
        } catch {
            XCTAssertTrue("\(error)".contains("holds shards of another list: row 0 of \(other) is \(server.base)/img/gen-23.png"), "\(error)")
        }
        let shard1 = try WebDataset.Reader(shards: [stopped.output + "/000001.tar"]).readAll()
        XCTAssertEqual(shard1.map(\.id), ["000000004", "000000005", "000000006", "000000007"])
        XCTAssertEqual(shard1[1].texts.map(\.text), ["caption 5"])
    }

    /// No more fetches at once than `--per-host` to the one host, nor than `--concurrency` in all.
    func testConcurrencyLimits() async throws {
        for (perHost, total, expected) in [(3, 8, 3), (8, 2, 2)] {
            let server = DownloadTestServer(images: try downloadTestGeneratedImages(count: 16), delay: 0.08)
            try await server.start()
            defer { server.stop() }
            let folder = try makeDataTestFolder()
            try (0..<16).map { "\(server.base)/img/gen-\($0).png" }.joined(separator: "\n").write(toFile: folder + "/list.txt", atomically: true, encoding: .utf8)
            var settings = downloadTestSettings()
            settings.perHost = perHost
            settings.concurrency = total
            var options = DatasetDownloader.Options(list: folder + "/list.txt", output: folder + "/out", fetcher: settings)
            options.showsProgress = false
            let summary = try await DatasetDownloader(options: options).run()
            XCTAssertEqual(summary.successes, 16)
            XCTAssertEqual(server.maxInFlight, expected, "per host \(perHost), in all \(total)")
        }
    }

    func testProgressLine() {
        let progress = DownloadProgress(total: 1000, forced: false)
        let later = DispatchTime.now().uptimeNanoseconds + 10_000_000_000
        let line = progress.line(done: 250, successes: 200, now: later)
        XCTAssertTrue(line.hasPrefix("download 250/1000 rows  20.0 samples/s  success 80.0%  ETA 30s"), line)
        XCTAssertFalse(progress.line(done: 1000, successes: 900, now: later).contains("ETA"))
    }

    func testURLListReaders() throws {
        let folder = try makeDataTestFolder()
        try "url,caption,alt\n\"http://127.0.0.1/a.jpg\",\"a cat, sitting\",x\nhttp://127.0.0.1/b.jpg,\"two\nlines\",\n\nhttp://127.0.0.1/c.jpg,,y\n"
            .write(toFile: folder + "/list.csv", atomically: true, encoding: .utf8)
        let csv = try URLListFormat.open(folder + "/list.csv", format: nil, columns: .init(url: "url", captions: ["caption", "alt"]))
        var rows: [URLListEntry] = []
        while let entry = try csv.next() { rows.append(entry) }
        XCTAssertEqual(rows.map(\.url), ["http://127.0.0.1/a.jpg", "http://127.0.0.1/b.jpg", "http://127.0.0.1/c.jpg"])
        XCTAssertEqual(rows.map { $0.texts.map(\.text) }, [["a cat, sitting", "x"], ["two\nlines"], ["y"]])
        XCTAssertEqual(rows.map(\.row), [0, 1, 2])

        try "URL\tTEXT\nhttp://127.0.0.1/a.jpg\t一只猫\n".write(toFile: folder + "/list.tsv", atomically: true, encoding: .utf8)
        let tsv = try URLListFormat.open(folder + "/list.tsv", format: nil, columns: .init(url: "URL", captions: ["TEXT"]))
        XCTAssertEqual(try tsv.next()?.texts.map(\.text), ["一只猫"])
        XCTAssertThrowsError(try URLListFormat.open(folder + "/list.tsv", format: nil, columns: .init(url: "url"))) { error in
            XCTAssertTrue("\(error)".contains("no column \"url\" (--url-column); the header names \"URL\", \"TEXT\""), "\(error)")
        }

        try "# a comment\nhttp://127.0.0.1/a.jpg\n\n  http://127.0.0.1/b.jpg  \n".write(toFile: folder + "/list.txt", atomically: true, encoding: .utf8)
        let text = try URLListFormat.open(folder + "/list.txt", format: nil)
        XCTAssertEqual(try text.next()?.url, "http://127.0.0.1/a.jpg")
        XCTAssertEqual(try text.next(), URLListEntry(row: 1, url: "http://127.0.0.1/b.jpg", texts: []))
        XCTAssertNil(try text.next())

        try writeURLList([["image_url": "http://127.0.0.1/z.jpg", "title": "t", "content": "", "texts": [["text": "neg", "role": "negative:count"]], "id": 7]],
                         to: folder + "/list.jsonl")
        let zero = try URLListFormat.open(folder + "/list.jsonl", format: nil)
        let entry = try XCTUnwrap(try zero.next())
        XCTAssertEqual(entry.id, "7")
        XCTAssertEqual(entry.texts, [SampleText("t", kind: .title), SampleText("neg", role: .hardNegative(.count))])
        try "{\"title\": \"no url\"}\n".write(toFile: folder + "/bad.jsonl", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try URLListFormat.open(folder + "/bad.jsonl", format: nil).next()) { error in
            XCTAssertTrue("\(error)".hasSuffix("bad.jsonl:1: no \"url\" (or \"image_url\") string"), "\(error)")
        }
        try Data().write(to: URL(fileURLWithPath: folder + "/laion.parquet"))
        XCTAssertThrowsError(try URLListFormat.open(folder + "/laion.parquet", format: nil)) { error in
            XCTAssertTrue("\(error)".contains("import pyarrow.parquet as pq"), "\(error)")
        }
    }

    func testOptOutDirectivesAndRetryAfter() {
        let ours = OptOutDirectives(userAgentToken: OptOutDirectives.token(ofUserAgent: "swift-vlp/0.1.0 (contact: x)"))
        XCTAssertEqual(ours.userAgentToken, "swift-vlp")
        XCTAssertEqual(ours.optOut(in: ["noai"]), "noai")
        XCTAssertEqual(ours.optOut(in: ["nofollow", "NoImageAI"]), "noimageai")
        XCTAssertNil(ours.optOut(in: ["noindex, nofollow"]))
        XCTAssertNil(ours.optOut(in: ["otherbot: noai"]))
        XCTAssertEqual(ours.optOut(in: ["swift-vlp: noai"]), "noai")
        XCTAssertNil(ours.optOut(in: ["unavailable_after: 25 Jun 2030 15:00:00 PST"]))
        var strict = ours
        strict.respectsNoindex = true
        XCTAssertEqual(strict.optOut(in: ["none"]), "none")
        XCTAssertEqual(strict.optOut(in: ["noindex, nofollow"]), "noindex")

        XCTAssertEqual(RetryPolicy.retryAfterSeconds("7"), 7)
        let now = Date(timeIntervalSince1970: 1_445_412_480)                  // Wed, 21 Oct 2015 07:28:00 GMT
        XCTAssertEqual(RetryPolicy.retryAfterSeconds("Wed, 21 Oct 2015 07:28:30 GMT", now: now), 30)
        XCTAssertNil(RetryPolicy.retryAfterSeconds("soon"))
        let policy = RetryPolicy(retries: 2, baseDelay: 0.5, maxRetryAfter: 10)
        let unavailable = DownloadFailure(.httpStatus, httpStatus: 503)
        XCTAssertEqual(policy.delay(after: unavailable, attempt: 0, retryAfter: 3), 3)
        XCTAssertNil(policy.delay(after: unavailable, attempt: 0, retryAfter: 60), "over the cap: give up for this run")
        XCTAssertNil(policy.delay(after: unavailable, attempt: 2, retryAfter: nil))
        XCTAssertNil(policy.delay(after: DownloadFailure(.httpStatus, httpStatus: 404), attempt: 0, retryAfter: nil))
        let backoff = policy.delay(after: DownloadFailure(.timeout), attempt: 1, retryAfter: nil) ?? 0
        XCTAssertTrue((1.0...1.25).contains(backoff), "\(backoff)")
    }
}
