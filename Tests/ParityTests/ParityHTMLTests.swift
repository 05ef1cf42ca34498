import Foundation
import TestSupport
import XCTest
@testable import Parity

/// The HTML report: its SVG elements parsed by Python's html.parser, and a headless Chromium screenshot
/// whose pixels must show the series and the missing ranges in their colours.
final class ParityHTMLTests: XCTestCase {
    func makeReport() async throws -> ParityReport {
        let engineTests = HTMLFixtures()
        let (left, right) = engineTests.makeDefectivePair()
        return try await ParityEngine(options: ParityOptions(comparePayload: true)).run(left: left, right: right)
    }

    func testHTMLHasChartAndTimelinesPerPartition() async throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        let report = try await makeReport()
        let html = ParityHTMLRenderer.render(report)
        XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"),
                       "no external references expected")
        let result = try ProcessRunner.python(Self.parseScript, stdin: Data(html.utf8))
        XCTAssertEqual(result.status, 0, result.stderrText)
        let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(facts["external"] as? [String], [])
        XCTAssertEqual(facts["chart_series"] as? [String], ["series series-left", "series series-right"])
        XCTAssertEqual(facts["chart_points"] as? Int, 2 * 3)   // offsets 0-9999 at 1/s span 10:00-12:46: 3 hours, 2 sides
        XCTAssertEqual(facts["timelines"] as? [String], (0...3).map { "\(ParityEngineTests.topic)[\($0)]" })
        // Missing: p0 left 2 + right 1, p1 right 1, p3 right 1 → 5; duplicates p0 right, p1 left → 2; payload: 2 ranges × 2 lanes.
        XCTAssertEqual(facts["missing_rects"] as? Int, 5)
        XCTAssertEqual(facts["duplicate_rects"] as? Int, 2)
        XCTAssertEqual(facts["payload_rects"] as? Int, 4)
    }

    func testChromiumScreenshotShowsTheReport() async throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try XCTSkipIf(chromium == nil, "Debian chromium not installed (scripts/setup.sh installs it)")
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        let report = try await makeReport()
        let directory = try TestEnvironment.temporaryDirectory("k2-verify-html")
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("report.html")
        let png = directory.appendingPathComponent("report.png")
        try ParityHTMLRenderer.render(report).write(to: page, atomically: true, encoding: .utf8)
        var arguments = ["--headless", "--disable-gpu", "--hide-scrollbars", "--screenshot=\(png.path)",
                         "--window-size=1000,1600", "--user-data-dir=\(directory.appendingPathComponent("profile").path)"]
        if getuid() == 0 { arguments.append("--no-sandbox") }
        let run = try ProcessRunner.run(chromium!, arguments + [page.absoluteString])
        XCTAssertEqual(run.status, 0, run.stderrText)
        let size = try FileManager.default.attributesOfItem(atPath: png.path)[.size] as? Int ?? 0
        XCTAssertGreaterThan(size, 10_000, "screenshot too small to hold the report")
        let pixels = try ProcessRunner.python(Self.pngColourScript, [png.path])
        XCTAssertEqual(pixels.status, 0, pixels.stderrText)
        let counts = try XCTUnwrap(JSONSerialization.jsonObject(with: pixels.stdout) as? [String: Int])
        XCTAssertEqual(counts["width"], 1000)
        XCTAssertEqual(counts["height"], 1600)
        XCTAssertGreaterThan(counts["missing"] ?? 0, 200, "red missing ranges not drawn")
        XCTAssertGreaterThan(counts["left"] ?? 0, 200, "left series not drawn")
        XCTAssertGreaterThan(counts["right"] ?? 0, 200, "right series not drawn")
        XCTAssertGreaterThan(counts["distinct"] ?? 0, 20, "image looks blank")
    }

    static let parseScript = #"""
import json, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.f = {"external": [], "chart_series": [], "chart_points": 0, "timelines": [], "missing_rects": 0,
                  "duplicate_rects": 0, "payload_rects": 0}
        self.in_chart = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if k in a: self.f["external"].append(a[k])
        if tag == "link" or tag == "script": self.f["external"].append(tag)
        if tag == "svg" and a.get("id") == "rows-per-hour": self.in_chart = True
        elif tag == "svg": self.in_chart = False
        if tag == "svg" and a.get("class") == "timeline": self.f["timelines"].append(a["data-partition"])
        if self.in_chart and tag == "polyline": self.f["chart_series"].append(a["class"])
        if self.in_chart and tag == "circle": self.f["chart_points"] += 1
        if tag == "rect" and a.get("class") == "missing": self.f["missing_rects"] += 1
        if tag == "rect" and a.get("class") == "duplicate": self.f["duplicate_rects"] += 1
        if tag == "rect" and a.get("class") == "payload": self.f["payload_rects"] += 1
p = P(); p.feed(sys.stdin.read()); print(json.dumps(p.f))
"""#

    /// A minimal PNG decoder (8-bit RGB/RGBA, non-interlaced: what Chromium writes) counting pixels near the
    /// report's colours.
    static let pngColourScript = #"""
import json, struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR": width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
    if kind == b"IDAT": idat += body
    pos += 12 + length
assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat); stride = width * bpp
prev = bytearray(stride); rows = []; i = 0
for _ in range(height):
    f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line); prev = line
targets = {"missing": (0xd6, 0x27, 0x28), "left": (0x1f, 0x77, 0xb4), "right": (0xff, 0x7f, 0x0e)}
counts = {k: 0 for k in targets}; distinct = set()
for line in rows:
    for x in range(0, stride, bpp):
        px = (line[x], line[x + 1], line[x + 2]); distinct.add(px)
        for k, t in targets.items():
            if all(abs(px[j] - t[j]) <= 12 for j in range(3)): counts[k] += 1
counts.update(width=width, height=height, distinct=len(distinct))
print(json.dumps(counts))
"""#
}
struct HTMLFixtures: SyntheticSides {}
