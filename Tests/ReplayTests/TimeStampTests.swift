import Foundation
import K2CLI
import XCTest

/// The checkpoint's `updated` stamp is written without Foundation's formatters (they load ICU on first use);
/// it must read exactly as `ISO8601DateFormatter()` wrote it before.
final class TimeStampTests: XCTestCase {
    func testSecondsStampMatchesFoundationsFormatter() {
        let formatter = ISO8601DateFormatter()
        var seconds: [Int] = [0, 59, 60, 86_399, 86_400, 951_782_400 /* 2000-02-29 */, 1_709_164_800 /* 2024-02-29 */,
                              1_707_472_806, 1_735_689_599 /* 2024-12-31T23:59:59Z */, 1_735_689_600, 4_102_444_800,
                              253_402_300_799 /* 9999-12-31T23:59:59Z */]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { seconds.append(Int.random(in: 0...4_102_444_800, using: &generator)) }
        for value in seconds {
            XCTAssertEqual(TimeParser.rfc3339(epochSeconds: value),
                           formatter.string(from: Date(timeIntervalSince1970: TimeInterval(value))), "epoch second \(value)")
        }
    }

    func testAllocatorTuningIsAcceptedByGlibc() {
        // mallopt answers 0 for a parameter or value it refuses; the replay's page-fault saving rests on both.
        XCTAssertTrue(AllocatorTuning.keepFreedMemory())
    }
}
