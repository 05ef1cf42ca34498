import Crypto
import Foundation
import TestSupport
import XCTest

@testable import Iceberg

/// S3FileIO against moto_server on loopback, with boto3 (botocore's own signer and XML handling) as the
/// independent reader and writer of the same objects.
final class S3FileIOTests: XCTestCase {
    private var moto: MotoS3!

    override func setUpWithError() throws {
        moto = try MotoS3()
        try moto.createBucket("warehouse")
    }

    override func tearDown() {
        moto?.stop()
    }

    private func pattern(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    private func sha256(_ bytes: [UInt8]) -> String { SigV4Signer.hexSHA256(bytes) }

    func testSmallWriteIsReadBackByBoto3() async throws {
        let io = try moto.fileIO()
        let contents = pattern(100_000, seed: 1)
        // A key with characters that SigV4 must encode (space, '=', '+', non-ASCII).
        let key = "market_data/bronze t/data/ingestion_date_day=2024-02-09/part+1 é.parquet"
        try await io.write("s3://warehouse/\(key)", contents: contents)

        let check = try moto.boto3(
            """
            import hashlib
            body = s3.get_object(Bucket="warehouse", Key=sys.argv[1])["Body"].read()
            print(len(body), hashlib.sha256(body).hexdigest())
            """, [key])
        XCTAssertEqual(check.status, 0, check.stderrText)
        XCTAssertEqual(check.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "100000 \(sha256(contents))")
    }

    func testReadRangeLengthExistsOfBoto3Object() async throws {
        let put = try moto.boto3(
            """
            s3.put_object(Bucket="warehouse", Key="a/b.bin", Body=bytes(range(256)) * 40)
            """)
        XCTAssertEqual(put.status, 0, put.stderrText)
        let expected = [UInt8]((0..<40).flatMap { _ in (0..<256).map { UInt8($0) } })

        let io = try moto.fileIO()
        for location in ["s3://warehouse/a/b.bin", "s3a://warehouse/a/b.bin", "s3n://warehouse/a/b.bin"] {
            let value1 = try await io.read(location)
            XCTAssertEqual(value1, expected)
        }
        let value2 = try await io.length("s3://warehouse/a/b.bin")
        XCTAssertEqual(value2, 10_240)
        let value3 = try await io.read("s3://warehouse/a/b.bin", offset: 10_232, length: 8)
        XCTAssertEqual(value3, Array(expected[10_232..<10_240]))
        let value4 = try await io.read("s3://warehouse/a/b.bin", offset: 300, length: 1000)
        XCTAssertEqual(value4, Array(expected[300..<1300]))
        let value5 = try await io.read("s3://warehouse/a/b.bin", offset: 5, length: 0)
        XCTAssertEqual(value5, [])
        let exists = try await io.exists("s3://warehouse/a/b.bin")
        XCTAssertTrue(exists)
        let absent = try await io.exists("s3://warehouse/a/c.bin")
        XCTAssertFalse(absent)

        // A range past the end is an error naming the object, not a silently short answer.
        do {
            _ = try await io.read("s3://warehouse/a/b.bin", offset: 10_200, length: 100)
            XCTFail("short range read succeeded")
        } catch let error as FileIOError {
            XCTAssertEqual(error.location, "s3://warehouse/a/b.bin")
            XCTAssertEqual(error.kind, .io)
        }
    }

    func testMissingObjectIsNotFoundNamingTheLocation() async throws {
        let io = try moto.fileIO()
        for operation in ["read", "length", "range"] {
            do {
                switch operation {
                case "read": _ = try await io.read("s3://warehouse/missing/x.avro")
                case "length": _ = try await io.length("s3://warehouse/missing/x.avro")
                default: _ = try await io.read("s3://warehouse/missing/x.avro", offset: 0, length: 4)
                }
                XCTFail("\(operation) of a missing object succeeded")
            } catch let error as FileIOError {
                XCTAssertEqual(error.kind, .notFound, "\(operation): \(error)")
                XCTAssertEqual(error.location, "s3://warehouse/missing/x.avro")
            }
        }
        do {
            _ = try await io.read("s3://no-such-bucket/x")
            XCTFail("read from a missing bucket succeeded")
        } catch let error as FileIOError {
            XCTAssertEqual(error.kind, .notFound)
            XCTAssertTrue(error.message.contains("NoSuchBucket"), error.message)
        }
    }

    func testWrongSecretIsPermissionDenied() async throws {
        let io = try S3FileIO(
            configuration: S3Configuration(endpoint: moto.endpoint),
            credentials: S3Credentials(accessKeyId: moto.credentials.accessKeyId, secretAccessKey: "not-the-secret"))
        do {
            try await io.write("s3://warehouse/x", contents: [1, 2, 3])
            XCTFail("write with a wrong secret succeeded")
        } catch let error as FileIOError {
            XCTAssertEqual(error.kind, .permissionDenied, "\(error)")
            XCTAssertEqual(error.location, "s3://warehouse/x")
            XCTAssertFalse(error.description.contains("not-the-secret"))
        }
    }

    func testMultipartWriteIsOneObject() async throws {
        let io = try moto.fileIO {
            $0.multipartThreshold = S3Configuration.minimumPartSize
            $0.partSize = S3Configuration.minimumPartSize
        }
        let contents = pattern(2 * S3Configuration.minimumPartSize + 12_345, seed: 7)
        try await io.write("s3://warehouse/big/object.parquet", contents: contents)

        // boto3 sees one whole object, and its ETag ("<md5 of part md5s>-3") says three parts made it.
        let check = try moto.boto3(
            """
            import hashlib
            obj = s3.get_object(Bucket="warehouse", Key="big/object.parquet")
            body = obj["Body"].read()
            print(len(body), hashlib.sha256(body).hexdigest(), obj["ETag"].strip('"').split("-")[1])
            print(len(s3.list_multipart_uploads(Bucket="warehouse").get("Uploads", [])))
            """)
        XCTAssertEqual(check.status, 0, check.stderrText)
        XCTAssertEqual(check.stdoutText, "\(contents.count) \(sha256(contents)) 3\n0\n")
        let value6 = try await io.length("s3://warehouse/big/object.parquet")
        XCTAssertEqual(value6, Int64(contents.count))
        let value7 = try await io.read("s3://warehouse/big/object.parquet", offset: 5_242_870, length: 20)
        XCTAssertEqual(value7, Array(contents[5_242_870..<5_242_890]))
    }

    /// A multipart write cancelled part-way publishes nothing and leaves no upload behind; if the cancellation
    /// lands after the upload completed, the object is whole. Either way there is no partial object.
    func testCancelledMultipartWritePublishesNothing() async throws {
        let io = try moto.fileIO {
            $0.multipartThreshold = S3Configuration.minimumPartSize
            $0.partSize = S3Configuration.minimumPartSize
            $0.partConcurrency = 1
        }
        let contents = pattern(4 * S3Configuration.minimumPartSize, seed: 3)
        let write = Task { try await io.write("s3://warehouse/cancelled/object.parquet", contents: contents) }
        try await Task.sleep(for: .milliseconds(300))
        write.cancel()
        let outcome = await write.result
        let check = try moto.boto3(
            """
            import botocore
            try:
                s3.head_object(Bucket="warehouse", Key="cancelled/object.parquet"); print("present")
            except botocore.exceptions.ClientError as e:
                print(e.response["Error"]["Code"])
            print(len(s3.list_multipart_uploads(Bucket="warehouse").get("Uploads", [])))
            """)
        XCTAssertEqual(check.status, 0, check.stderrText)
        if case .success = outcome {
            // The upload finished before the cancellation arrived: then the object must be whole.
            XCTAssertEqual(check.stdoutText, "present\n0\n")
            let value8 = try await io.read("s3://warehouse/cancelled/object.parquet")
            XCTAssertEqual(value8, contents)
        } else {
            XCTAssertEqual(check.stdoutText, "404\n0\n")
        }
    }

    func testDelete() async throws {
        let io = try moto.fileIO()
        try await io.write("s3://warehouse/d/x.json", contents: Array("{}".utf8))
        let before = try await io.exists("s3://warehouse/d/x.json")
        XCTAssertTrue(before)
        try await io.delete("s3://warehouse/d/x.json")
        let after = try await io.exists("s3://warehouse/d/x.json")
        XCTAssertFalse(after)
        let check = try moto.boto3("print(s3.list_objects_v2(Bucket='warehouse', Prefix='d/').get('KeyCount'))")
        XCTAssertEqual(check.stdoutText, "0\n", check.stderrText)
        // Deleting again is not an error.
        try await io.delete("s3://warehouse/d/x.json")
    }

    /// Every request's first try is answered 503 SlowDown by a proxy in front of moto: each operation
    /// must still succeed, by retrying with the same (re-signed) request.
    func testThrottledRequestsAreRetried() async throws {
        let proxy = try BackgroundProcess(
            TestEnvironment.python,
            [TestEnvironment.repositoryRoot.appendingPathComponent("scripts/flaky_s3_proxy.py").path, moto.endpoint],
            logFile: moto.directory.appendingPathComponent("proxy.log"))
        defer { proxy.stop() }
        guard let port = proxy.firstLine() else { return XCTFail("proxy did not start: \(proxy.log)") }
        let io = try S3FileIO(
            configuration: S3Configuration(
                endpoint: "http://127.0.0.1:\(port)", multipartThreshold: S3Configuration.minimumPartSize,
                partSize: S3Configuration.minimumPartSize, initialBackoff: .milliseconds(10)),
            credentials: moto.credentials)

        let small = pattern(1000, seed: 11)
        let large = pattern(S3Configuration.minimumPartSize + 100, seed: 12)
        try await io.write("s3://warehouse/retry/small.bin", contents: small)
        try await io.write("s3://warehouse/retry/large.bin", contents: large)
        let value9 = try await io.read("s3://warehouse/retry/small.bin")
        XCTAssertEqual(value9, small)
        let value10 = try await io.read("s3://warehouse/retry/large.bin", offset: 10, length: 5)
        XCTAssertEqual(value10, Array(large[10..<15]))
        let value11 = try await io.length("s3://warehouse/retry/large.bin")
        XCTAssertEqual(value11, Int64(large.count))
        try await io.delete("s3://warehouse/retry/small.bin")
        let exists = try await io.exists("s3://warehouse/retry/small.bin")
        XCTAssertFalse(exists)

        // PUT, create-upload, 2 parts, complete, GET, ranged GET, HEAD, DELETE, HEAD: each throttled once.
        let injected = proxy.log.split(separator: "\n").filter { $0.hasPrefix("injected 503") }
        XCTAssertEqual(injected.count, 10, proxy.log)
        let check = try moto.boto3(
            "import hashlib; print(hashlib.sha256(s3.get_object(Bucket='warehouse', Key='retry/large.bin')['Body'].read()).hexdigest())")
        XCTAssertEqual(check.stdoutText, sha256(large) + "\n", check.stderrText)
    }

    func testFromEnvironmentNeedsCredentials() throws {
        XCTAssertThrowsError(try S3FileIO.fromEnvironment(
            configuration: S3Configuration(endpoint: moto.endpoint), environment: [:])) { error in
            XCTAssertEqual((error as? FileIOError)?.kind, .permissionDenied)
            XCTAssertTrue("\(error)".contains("AWS_ACCESS_KEY_ID"))
        }
    }
}
