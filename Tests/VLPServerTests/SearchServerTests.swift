import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import VLP
import XCTest
@testable import VLPServer

/// `SearchServer` on a real loopback socket, asked over HTTP the way the page and API users ask.
final class SearchServerTests: TorchTestCase {
    struct Reply {
        var status: Int
        var contentType: String?
        var body: Data
        var allowOrigin: String?
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        var errorMessage: String? { (json?["error"] as? [String: Any])?["message"] as? String }
    }

    func fetch(_ url: URL, method: String = "GET", body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: url)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpMethod = method
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        return Reply(status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type"), body: data,
                     allowOrigin: http.value(forHTTPHeaderField: "Access-Control-Allow-Origin"))
    }

    func testPageSearchImagesAndErrorsOverHTTP() async throws {
        let (folder, files, _) = try SearchFixtures.photoIndex(self, "server", count: 5)
        let engine = try SearchEngine(indexFolder: folder)

        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let application = SearchServer.application(engine, host: "127.0.0.1", port: 0, allowAnyOrigin: true) { portSink.yield($0) }
        let server = Task { try await application.run() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let first = await iterator.next()
        let port = try XCTUnwrap(first)
        let base = try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)"))

        let page = try await fetch(base.appendingPathComponent("/"))
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.contentType, "text/html; charset=utf-8")
        XCTAssertTrue(String(decoding: page.body, as: UTF8.self).contains("/api/search?q="))

        // A text query gives what the engine gives, best first.
        let text = "两个绿色的三角形"
        var components = URLComponents(url: base.appendingPathComponent("/api/search"), resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "q", value: text), URLQueryItem(name: "k", value: "3")]
        let searched = try await fetch(components.url!)
        XCTAssertEqual(searched.status, 200, String(decoding: searched.body, as: UTF8.self))
        XCTAssertTrue(String(decoding: searched.body, as: UTF8.self).contains("\"image\":\"/images/"), "slashes are not escaped")
        let answer = try JSONDecoder().decode(SearchResponse.self, from: searched.body)
        XCTAssertEqual(answer.query, text)
        let expected = try await engine.search(text: text, count: 3)
        XCTAssertEqual(answer.results.map(\.position), expected.map(\.position))
        XCTAssertEqual(answer.results.map(\.rank), [1, 2, 3])
        for (result, hit) in zip(answer.results, expected) { XCTAssertEqual(result.score, hit.score, accuracy: 1e-6) }

        // Spaces written as `+` (HTML forms, curl --data-urlencode) are spaces.
        let plus = try await fetch(try XCTUnwrap(URL(string: base.absoluteString + "/api/search?q=two+green+circles%2C+please&k=3")))
        let spelled = try await engine.search(text: "two green circles, please", count: 3)
        XCTAssertEqual(try JSONDecoder().decode(SearchResponse.self, from: plus.body).results.map(\.position), spelled.map(\.position))
        XCTAssertEqual(try JSONDecoder().decode(SearchResponse.self, from: plus.body).query, "two green circles, please")

        // An image query finds the image itself; its bytes come back from /images/N.
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: files[3]))
        let byImage = try await fetch(base.appendingPathComponent("/api/search/image").appending(queryItems: [URLQueryItem(name: "k", value: "2")]),
                                      method: "POST", body: bytes)
        XCTAssertEqual(byImage.status, 200, String(decoding: byImage.body, as: UTF8.self))
        let top = try XCTUnwrap(try JSONDecoder().decode(SearchResponse.self, from: byImage.body).results.first)
        XCTAssertEqual(engine.index.imageFile(of: engine.index.entries[top.position]).path, files[3])
        let image = try await fetch(base.appendingPathComponent(top.image))
        XCTAssertEqual(image.status, 200)
        XCTAssertEqual(image.contentType, "image/png")
        XCTAssertEqual(image.body, bytes)

        let info = try await fetch(base.appendingPathComponent("/api/info"), headers: ["Origin": "http://example.org"])
        XCTAssertEqual(info.allowOrigin, "*", "CORS answers other origins when allowed")
        XCTAssertEqual(try JSONDecoder().decode(IndexInfo.self, from: info.body).manifest.count, 5)

        // Bad requests say what was wrong.
        for (path, status, message) in [("/api/search?q=&k=3", 400, "text is empty"), ("/api/search?q=cat&k=many", 400, "whole number"),
                                        ("/api/search?q=cat&k=0", 400, "1...1000"), ("/images/99", 404, "holds 5"),
                                        ("/api/search?q=cat&target=words", 400, "images or texts"), ("/api/search?q=cat&target=texts", 400, "--texts")] {
            let reply = try await fetch(try XCTUnwrap(URL(string: base.absoluteString + path)))
            XCTAssertEqual(reply.status, status, path)
            XCTAssertTrue(reply.errorMessage?.contains(message) == true, "\(path): \(reply.errorMessage ?? String(decoding: reply.body, as: UTF8.self))")
        }
        let notImage = try await fetch(base.appendingPathComponent("/api/search/image"), method: "POST", body: Data("hello".utf8))
        XCTAssertEqual(notImage.status, 400)
        XCTAssertTrue(notImage.errorMessage?.contains("query image") == true, notImage.errorMessage ?? "")
    }
}
