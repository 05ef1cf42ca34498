import Foundation
import Glibc

/// Listens on a fixed loopback port and relays each connection to one broker of the embedded cluster, so
/// `--bootstrap localhost:9092` reaches a cluster whose brokers listen on ports the mock picked itself.
/// Only the bootstrap connection goes through it: the brokers' metadata names their own addresses, which
/// clients then connect to directly. A thread per direction per connection: clients open a handful.
public final class BootstrapForwarder: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private let targetHost: String
    private let targetPort: Int
    private let lock = NSLock()
    private var closed = false

    /// Starts listening on 127.0.0.1:`port` and relaying to `target` (`HOST:PORT`, the first bootstrap broker).
    public init(port: Int, target: String) throws {
        guard let colon = target.lastIndex(of: ":"), let targetPort = Int(target[target.index(after: colon)...]) else {
            throw KafkaError(message: "bootstrap forwarder: \(target) is not HOST:PORT")
        }
        targetHost = String(target[..<colon])
        self.targetPort = targetPort
        self.port = port
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw KafkaError(message: "bootstrap forwarder: socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(listener)
            throw KafkaError(message: "cannot listen on 127.0.0.1:\(port) for the embedded cluster: \(reason)")
        }
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "bootstrap-forwarder"
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting; relays already open end when either side closes.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return   // the listener was closed
            }
            guard let upstream = connectToTarget() else {
                close(client)
                continue
            }
            let connection = RelayedConnection(client: client, upstream: upstream)
            relay(from: client, to: upstream, connection)
            relay(from: upstream, to: client, connection)
        }
    }

    private func connectToTarget() -> Int32? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(targetHost, String(targetPort), &hints, &result) == 0, let info = result else { return nil }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return nil }
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Both sockets of one relayed connection, closed when both directions have ended (not before: a
    /// descriptor number closed early could be reused by the next accepted connection while the other
    /// direction still writes to it).
    private final class RelayedConnection: @unchecked Sendable {
        let client: Int32
        let upstream: Int32
        private let lock = NSLock()
        private var running = 2

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }

        func directionEnded() {
            lock.lock()
            running -= 1
            let last = running == 0
            lock.unlock()
            if last {
                close(client)
                close(upstream)
            }
        }
    }

    /// Copies bytes one way until end of stream or an error, then half-closes the destination.
    private func relay(from source: Int32, to destination: Int32, _ connection: RelayedConnection) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            copying: while true {
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                var sent = 0
                while sent < count {
                    let written = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + sent, count - sent) }
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break copying }
                    sent += written
                }
            }
            shutdown(destination, Int32(SHUT_WR))
            shutdown(source, Int32(SHUT_RD))
            connection.directionEnded()
        }
        thread.name = "bootstrap-relay"
        thread.start()
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}
