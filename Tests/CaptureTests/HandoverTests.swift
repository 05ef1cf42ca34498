@testable import Capture
import NIOCore
import XCTest

/// When make-before-break may close the old connection: only once both connections delivered a common frame
/// on every stream the old one carries, whichever of the two lags.
final class HandoverTests: XCTestCase {
    private func frame(_ n: Int) -> ByteBuffer { ByteBuffer(string: "{\"t\":\(n)}") }

    func testOldConnectionLagging() {
        var handover = Handover()
        XCTAssertFalse(handover.old(delivered: frame(1), stream: 0))
        XCTAssertFalse(handover.new(delivered: frame(3), stream: 0, nowNanos: 10))   // the old one has not reached 3 yet
        XCTAssertEqual(handover.startedNanos, 10)
        XCTAssertFalse(handover.new(delivered: frame(4), stream: 0, nowNanos: 11))
        XCTAssertFalse(handover.old(delivered: frame(2), stream: 0))
        XCTAssertTrue(handover.old(delivered: frame(3), stream: 0))                  // 1, 2, 3 old; 3, 4, ... new
    }

    func testNewConnectionLagging() {
        var handover = Handover()
        XCTAssertFalse(handover.old(delivered: frame(5), stream: 0))
        XCTAssertFalse(handover.old(delivered: frame(6), stream: 0))
        XCTAssertFalse(handover.new(delivered: frame(4), stream: 0, nowNanos: 10))   // the new one starts behind the old one
        XCTAssertFalse(handover.old(delivered: frame(7), stream: 0))
        XCTAssertFalse(handover.new(delivered: frame(5), stream: 0, nowNanos: 11))
        XCTAssertTrue(handover.new(delivered: frame(6), stream: 0, nowNanos: 12))    // the old one's latest when the new one began
    }

    func testSameFrameFirst() {
        var handover = Handover()
        XCTAssertFalse(handover.old(delivered: frame(8), stream: 0))
        XCTAssertTrue(handover.new(delivered: frame(8), stream: 0, nowNanos: 10))
    }

    func testNoCommonFrameNeverProves() {
        var handover = Handover()
        XCTAssertFalse(handover.new(delivered: ByteBuffer(string: "[101,[1]]"), stream: 0, nowNanos: 10))
        for n in 0..<50 { XCTAssertFalse(handover.old(delivered: frame(n), stream: 0)) }
        for n in 0..<50 { XCTAssertFalse(handover.new(delivered: ByteBuffer(string: "[101,[\(n)]]"), stream: 0, nowNanos: 11)) }
    }

    private func trade(_ symbol: String, _ n: Int) -> ByteBuffer {
        ByteBuffer(string: "{\"stream\":\"\(symbol)@trade\",\"data\":{\"t\":\(n)}}")
    }

    /// One connection carries two streams whose subscriptions start at different moments on the new
    /// connection: a common BTCUSDT frame must not close the old connection while its ETHUSDT frames are
    /// still the only copy (the old connection lags: ETH 51 arrives after the BTC overlap).
    func testEveryStreamOfTheOldConnectionMustOverlap() {
        let btc = 0, eth = 1
        var handover = Handover(oldStreams: [true, true])
        XCTAssertFalse(handover.new(delivered: trade("btcusdt", 100), stream: btc, nowNanos: 10))
        XCTAssertFalse(handover.old(delivered: trade("btcusdt", 100), stream: btc))   // BTC proven, ETH not
        XCTAssertFalse(handover.isComplete)
        XCTAssertFalse(handover.old(delivered: trade("ethusdt", 51), stream: eth))    // still only on the old one
        XCTAssertFalse(handover.new(delivered: trade("ethusdt", 52), stream: eth, nowNanos: 11))
        XCTAssertTrue(handover.old(delivered: trade("ethusdt", 52), stream: eth))
    }

    /// The new connection lags on one stream: the old one's latest frame of that stream, not of another
    /// stream, is what the new one must reach.
    func testNewConnectionLaggingOnOneStreamOnly() {
        let btc = 0, eth = 1
        var handover = Handover(oldStreams: [true, true])
        XCTAssertFalse(handover.old(delivered: trade("btcusdt", 7), stream: btc))
        XCTAssertFalse(handover.old(delivered: trade("ethusdt", 3), stream: eth))
        XCTAssertFalse(handover.new(delivered: trade("ethusdt", 3), stream: eth, nowNanos: 10))   // ETH proven
        XCTAssertFalse(handover.new(delivered: trade("btcusdt", 5), stream: btc, nowNanos: 11))   // BTC behind
        XCTAssertFalse(handover.new(delivered: trade("btcusdt", 6), stream: btc, nowNanos: 12))
        XCTAssertTrue(handover.new(delivered: trade("btcusdt", 7), stream: btc, nowNanos: 13))
        XCTAssertEqual(handover.startedNanos, 10)
    }

    /// A stream the old connection carries that stays silent leaves the handover unproven (the capture's
    /// timeout ends it); a stream it starts carrying during the handover is required too.
    func testSilentOrLateStreamsKeepTheHandoverOpen() {
        var quiet = Handover(oldStreams: [true, false, true])
        XCTAssertFalse(quiet.new(delivered: trade("btcusdt", 1), stream: 0, nowNanos: 10))
        XCTAssertFalse(quiet.old(delivered: trade("btcusdt", 1), stream: 0))
        for n in 2..<20 {
            XCTAssertFalse(quiet.old(delivered: trade("btcusdt", n), stream: 0))
            XCTAssertFalse(quiet.new(delivered: trade("btcusdt", n), stream: 0, nowNanos: 10))
        }
        XCTAssertFalse(quiet.isComplete)

        var late = Handover(oldStreams: [true])
        XCTAssertFalse(late.old(delivered: trade("ethusdt", 9), stream: 1))            // now required
        XCTAssertFalse(late.new(delivered: trade("btcusdt", 4), stream: 0, nowNanos: 10))
        XCTAssertFalse(late.old(delivered: trade("btcusdt", 4), stream: 0))
        XCTAssertTrue(late.new(delivered: trade("ethusdt", 9), stream: 1, nowNanos: 11))
    }
}
