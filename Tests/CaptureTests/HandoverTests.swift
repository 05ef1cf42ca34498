@testable import Capture
import NIOCore
import XCTest

/// When make-before-break may close the old connection: only once both connections delivered a common frame,
/// whichever of the two lags.
final class HandoverTests: XCTestCase {
    private func frame(_ n: Int) -> ByteBuffer { ByteBuffer(string: "{\"t\":\(n)}") }

    func testOldConnectionLagging() {
        var handover = Handover()
        XCTAssertFalse(handover.old(delivered: frame(1)))
        XCTAssertFalse(handover.new(delivered: frame(3), nowNanos: 10))   // the old one has not reached 3 yet
        XCTAssertEqual(handover.startedNanos, 10)
        XCTAssertFalse(handover.new(delivered: frame(4), nowNanos: 11))
        XCTAssertFalse(handover.old(delivered: frame(2)))
        XCTAssertTrue(handover.old(delivered: frame(3)))                  // 1, 2, 3 old; 3, 4, ... new
    }

    func testNewConnectionLagging() {
        var handover = Handover()
        XCTAssertFalse(handover.old(delivered: frame(5)))
        XCTAssertFalse(handover.old(delivered: frame(6)))
        XCTAssertFalse(handover.new(delivered: frame(4), nowNanos: 10))   // the new one starts behind the old one
        XCTAssertFalse(handover.old(delivered: frame(7)))
        XCTAssertFalse(handover.new(delivered: frame(5), nowNanos: 11))
        XCTAssertTrue(handover.new(delivered: frame(6), nowNanos: 12))    // the old one's latest when the new one began
    }

    func testSameFrameFirst() {
        var handover = Handover()
        XCTAssertFalse(handover.old(delivered: frame(8)))
        XCTAssertTrue(handover.new(delivered: frame(8), nowNanos: 10))
    }

    func testNoCommonFrameNeverProves() {
        var handover = Handover()
        XCTAssertFalse(handover.new(delivered: ByteBuffer(string: "[101,[1]]"), nowNanos: 10))
        for n in 0..<50 { XCTAssertFalse(handover.old(delivered: frame(n))) }
        for n in 0..<50 { XCTAssertFalse(handover.new(delivered: ByteBuffer(string: "[101,[\(n)]]"), nowNanos: 11)) }
    }
}
