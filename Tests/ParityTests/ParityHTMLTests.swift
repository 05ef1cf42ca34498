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
        // Offsets 0-9999 at 1/s span 10:00-12:46: minute buckets (fewer than 240), 9999 / 60 + 1 per side.
        XCTAssertEqual(report.countsOverTime.bucketSeconds, 60)
        XCTAssertEqual(facts["chart_points"] as? [Int], [9_999 / 60 + 1, 9_999 / 60 + 1])
        XCTAssertEqual(facts["timelines"] as? [String], (0...3).map { "\(ParityEngineTests.topic)[\($0)]" })
        // Missing: p0 left 2 + right 1, p1 right 1, p3 right 1 → 5; duplicates p0 right, p1 left → 2; payload: 2 ranges × 2 lanes.
        XCTAssertEqual(facts["missing_rects"] as? Int, 5)
        XCTAssertEqual(facts["duplicate_rects"] as? Int, 2)
        XCTAssertEqual(facts["payload_rects"] as? Int, 4)
    }

    /// The outage report writes its ranges out as text: each gap with the offsets and times the side that
    /// lacks it holds just before and after (in the JSON and in the page), duplicates, retention and the
    /// tables' health findings, and charts a day in 15-minute buckets.
    func testOutageReportWritesRangesEdgeTimesAndHealth() async throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        let report = try await OutageReportFixture.report()
        let outage = OutageReportFixture.outage
        for partition: Int32 in [1, 2] {
            let p = try XCTUnwrap(report.partitions.first { $0.partition == partition })
            XCTAssertEqual(p.gapEdges, [GapEdges(side: "left", first: outage.lowerBound, last: outage.upperBound,
                beforeOffset: outage.lowerBound - 1, beforeTimestamp: "2024-02-09T05:59:50.000Z",
                afterOffset: outage.upperBound + 1, afterTimestamp: "2024-02-09T12:00:00.000Z")])
        }
        XCTAssertEqual(report.partitions.first { $0.partition == 0 }?.gapEdges, [])
        XCTAssertEqual(report.countsOverTime.bucketSeconds, 900)   // 24 h: 96 buckets of 15 min
        // The six hours are a drop to zero in the left series: 24 buckets of 06:00-11:45 hold only partitions 0 and 3.
        let left = try XCTUnwrap(report.countsOverTime.counts.left)
        XCTAssertEqual(left["2024-02-09T06:00:00.000Z"], 2 * 90)
        XCTAssertEqual(left["2024-02-09T05:45:00.000Z"], 4 * 90)

        let html = ParityHTMLRenderer.render(report)
        let result = try ProcessRunner.python(Self.parseScript, stdin: Data(html.utf8))
        XCTAssertEqual(result.status, 0, result.stderrText)
        let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let ranges = try XCTUnwrap(facts["range_rows"] as? [[String]])
        let gapRow = ["missing in left", "[2160, 4319]", "2160", "2159 at 2024-02-09 05:59:50.000", "4320 at 2024-02-09 12:00:00.000"]
        XCTAssertEqual(ranges.filter { $0 == gapRow }.count, 2, "\(ranges)")
        XCTAssertTrue(ranges.contains(["right holds each 2 times", "[6000, 6359]", "360 extra", "", ""]), "\(ranges)")
        XCTAssertTrue(ranges.contains(["past truth retention (not missing)", "[0, 499]", "500", "", ""]), "\(ranges)")
        XCTAssertTrue(ranges.contains(["payload differs, left and right", "[7001, 7002]", "2", "", ""]), "\(ranges)")
        let health = try XCTUnwrap(facts["health_rows"] as? [[String]])
        XCTAssertTrue(health.contains { $0.first == "file added twice" && $0.last!.contains("by snapshots 7702, 7703 (360 records)") }, "\(health)")
        XCTAssertTrue(health.contains(["commit marker", "spark.sql.streaming.epochId = 95 (snapshot 4012)"]), "\(health)")
        XCTAssertTrue(health.contains { $0.first == "problem" && $0.last!.contains("added by 2 snapshots") }, "\(health)")
        let ticks = try XCTUnwrap(facts["chart_ticks"] as? [String])
        XCTAssertTrue(ticks.contains("06:00") && ticks.contains("12:00") && ticks.contains("2024-02-09"), "\(ticks)")
    }

    /// Twenty minutes of data: the chart counts rows per 10 seconds and labels its axis in minutes and seconds.
    func testShortSpanChartIsInSeconds() async throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        let fixtures = HTMLFixtures()
        let rows = fixtures.rows(0, 0...1_199)
        let report = try await ParityEngine().run(left: fixtures.side("left", rows), right: fixtures.side("right", rows))
        XCTAssertEqual(report.countsOverTime.bucketSeconds, 10)
        XCTAssertEqual(report.countsOverTime.counts.left?.values.reduce(0, +), 1_200)
        XCTAssertEqual(report.countsOverTime.counts.left?["2024-02-09T10:00:10.000Z"], 10)
        let result = try ProcessRunner.python(Self.parseScript, stdin: Data(ParityHTMLRenderer.render(report).utf8))
        XCTAssertEqual(result.status, 0, result.stderrText)
        let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(facts["chart_points"] as? [Int], [120, 120])
        let ticks = try XCTUnwrap(facts["chart_ticks"] as? [String])
        XCTAssertTrue(ticks.contains("10:05:00") && ticks.contains("10:15:00"), "\(ticks)")
    }

    /// One row stamped at the epoch beside rows of 2024: the hourly series spans 54 years, and the chart
    /// joins hours so that it draws about a thousand points, not half a million.
    func testStrayTimestampKeepsTheChartSmall() async throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        let fixtures = HTMLFixtures()
        let stray = RowsSource.Row(key: fixtures.key(0), offset: 5_000, timestampMicros: 0, ingestionDay: 0)
        let rows = fixtures.rows(0, 0...999) + [stray]
        let report = try await ParityEngine().run(left: fixtures.side("left", rows), right: fixtures.side("right", rows))
        XCTAssertEqual(report.countsOverTime.bucketSeconds, 3600)
        let html = ParityHTMLRenderer.render(report)
        let result = try ProcessRunner.python(Self.parseScript, stdin: Data(html.utf8))
        XCTAssertEqual(result.status, 0, result.stderrText)
        let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let points = try XCTUnwrap(facts["chart_points"] as? [Int])
        XCTAssertEqual(points.count, 2)
        XCTAssertTrue(points.allSatisfy { $0 > 500 && $0 <= 1_001 }, "\(points)")
        let ticks = try XCTUnwrap(facts["chart_ticks"] as? [String])
        XCTAssertLessThan(ticks.count, 40, "\(ticks)")
        XCTAssertLessThan(html.utf8.count, 200_000)
    }

    func testChromiumScreenshotShowsTheReport() async throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try XCTSkipIf(chromium == nil, "Debian chromium not installed (scripts/setup.sh installs it)")
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        let report = try await OutageReportFixture.report()
        let directory = try TestEnvironment.temporaryDirectory("k2-verify-html")
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("report.html")
        let png = directory.appendingPathComponent("report.png")
        try ParityHTMLRenderer.render(report).write(to: page, atomically: true, encoding: .utf8)
        var arguments = ["--headless", "--disable-gpu", "--hide-scrollbars", "--screenshot=\(png.path)",
                         "--window-size=1000,2400", "--user-data-dir=\(directory.appendingPathComponent("profile").path)"]
        if getuid() == 0 { arguments.append("--no-sandbox") }
        let run = try ProcessRunner.run(chromium!, arguments + [page.absoluteString])
        XCTAssertEqual(run.status, 0, run.stderrText)
        // K2_REPORT_SCREENSHOT=docs/verify-report.png keeps the screenshot (how docs/verify-report.png is made).
        if let keep = ProcessInfo.processInfo.environment["K2_REPORT_SCREENSHOT"] {
            let target = URL(fileURLWithPath: keep, relativeTo: TestEnvironment.repositoryRoot)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: png, to: target)
        }
        let size = try FileManager.default.attributesOfItem(atPath: png.path)[.size] as? Int ?? 0
        XCTAssertGreaterThan(size, 10_000, "screenshot too small to hold the report")
        let pixels = try ProcessRunner.python(Self.pngColourScript, [png.path])
        XCTAssertEqual(pixels.status, 0, pixels.stderrText)
        let counts = try XCTUnwrap(JSONSerialization.jsonObject(with: pixels.stdout) as? [String: Int])
        XCTAssertEqual(counts["width"], 1000)
        XCTAssertEqual(counts["height"], 2400)
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
        self.f = {"external": [], "chart_series": [], "chart_points": [], "chart_ticks": [], "timelines": [], "missing_rects": 0,
                  "duplicate_rects": 0, "payload_rects": 0, "range_rows": [], "health_rows": []}
        self.cell = None; self.row = None; self.table = None; self.text = None
        self.in_chart = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if k in a: self.f["external"].append(a[k])
        if tag == "link" or tag == "script": self.f["external"].append(tag)
        if tag == "svg" and a.get("id") == "rows-over-time": self.in_chart = True
        elif tag == "svg": self.in_chart = False
        if self.in_chart and tag == "text": self.text = ""
        if tag == "table": self.table = a.get("class")
        if tag == "tr": self.row = []
        if tag in ("td", "th"): self.cell = ""
        if tag == "svg" and a.get("class") == "timeline": self.f["timelines"].append(a["data-partition"])
        if self.in_chart and tag == "polyline":
            self.f["chart_series"].append(a["class"]); self.f["chart_points"].append(len(a["points"].split()))
        if tag == "rect" and a.get("class") == "missing": self.f["missing_rects"] += 1
        if tag == "rect" and a.get("class") == "duplicate": self.f["duplicate_rects"] += 1
        if tag == "rect" and a.get("class") == "payload": self.f["payload_rects"] += 1
    def handle_data(self, data):
        if self.cell is not None: self.cell += data
        if self.text is not None: self.text += data
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None: self.row.append(self.cell.strip()); self.cell = None
        if tag == "tr" and self.row is not None:
            if self.table == "ranges": self.f["range_rows"].append(self.row)
            if self.table == "health": self.f["health_rows"].append(self.row)
            self.row = None
        if tag == "text" and self.text is not None:
            self.f["chart_ticks"].append(self.text); self.text = None
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
