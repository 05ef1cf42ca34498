import Crypto
import XCTest

@testable import Iceberg

/// The signer against the examples AWS publishes: the Signature Version 4 test suite ("get-vanilla",
/// "get-vanilla-query-order-key-case", "post-vanilla": credentials AKIDEXAMPLE, service "service") and the
/// S3 documentation's worked examples (GET Object with Range, PUT Object with an escaped key).
final class SigV4SignerTests: XCTestCase {
    private let suiteSigner = SigV4Signer(
        credentials: S3Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    private let s3DocSigner = SigV4Signer(
        credentials: S3Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "s3")
    private let suiteHeaders = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]

    func testGetVanilla() {
        let signed = suiteSigner.sign(
            method: "GET", canonicalURI: "/", query: [], headers: suiteHeaders,
            payloadHash: SigV4Signer.emptyPayloadHash, amzDate: "20150830T123600Z")
        XCTAssertEqual(signed.canonicalRequest, """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(signed.stringToSign, """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        XCTAssertEqual(
            signed.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    func testGetVanillaQueryOrderKeyCase() {
        let signed = suiteSigner.sign(
            method: "GET", canonicalURI: "/", query: [("Param2", "value2"), ("Param1", "value1")], headers: suiteHeaders,
            payloadHash: SigV4Signer.emptyPayloadHash, amzDate: "20150830T123600Z")
        XCTAssertEqual(signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2], "Param1=value1&Param2=value2")
        XCTAssertEqual(signed.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    func testPostVanilla() {
        let signed = suiteSigner.sign(
            method: "POST", canonicalURI: "/", query: [], headers: suiteHeaders,
            payloadHash: SigV4Signer.emptyPayloadHash, amzDate: "20150830T123600Z")
        XCTAssertEqual(signed.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    /// AWS's documented derived key for 20150830/us-east-1/iam (the "derive a signing key" example).
    func testSigningKeyDerivation() {
        let signer = SigV4Signer(credentials: suiteSigner.credentials, region: "us-east-1", service: "iam")
        let key = signer.signingKey(dateStamp: "20150830").withUnsafeBytes { Array($0) }
        XCTAssertEqual(SigV4Signer.hex(key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    }

    func testS3GetObjectWithRange() {
        let signed = s3DocSigner.sign(
            method: "GET", canonicalURI: "/test.txt", query: [],
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
            ],
            payloadHash: SigV4Signer.emptyPayloadHash, amzDate: "20130524T000000Z")
        XCTAssertEqual(signed.signedHeaders, "host;range;x-amz-content-sha256;x-amz-date")
        XCTAssertTrue(signed.stringToSign.hasSuffix("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
        XCTAssertEqual(signed.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    func testS3PutObjectWithEscapedKeyAndPayload() {
        let payloadHash = SigV4Signer.hexSHA256(Array("Welcome to Amazon S3.".utf8))
        XCTAssertEqual(payloadHash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = s3DocSigner.sign(
            method: "PUT", canonicalURI: "/" + SigV4Signer.uriEncode("test$file.text", encodeSlash: false), query: [],
            headers: [
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("Host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", payloadHash), ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            payloadHash: payloadHash, amzDate: "20130524T000000Z")
        XCTAssertTrue(signed.canonicalRequest.hasPrefix("PUT\n/test%24file.text\n\n"))
        XCTAssertEqual(signed.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    /// GET Bucket Lifecycle: a query parameter without a value is signed as `lifecycle=`.
    func testS3GetBucketLifecycle() {
        let signed = s3DocSigner.sign(
            method: "GET", canonicalURI: "/", query: [("lifecycle", "")],
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
            ],
            payloadHash: SigV4Signer.emptyPayloadHash, amzDate: "20130524T000000Z")
        XCTAssertEqual(signed.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    func testURIEncodingAndDate() {
        XCTAssertEqual(SigV4Signer.uriEncode("a b*(c)/d~é", encodeSlash: false), "a%20b%2A%28c%29/d~%C3%A9")
        XCTAssertEqual(SigV4Signer.uriEncode("x/y=z", encodeSlash: true), "x%2Fy%3Dz")
        XCTAssertEqual(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_440_938_160)), "20150830T123600Z")
    }

    func testCredentialsComeFromEnvironmentAndAreNeverPrinted() {
        XCTAssertNil(S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "id"]))
        let credentials = S3Credentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "verysecret", "AWS_SESSION_TOKEN": "tokentext",
        ])
        XCTAssertEqual(credentials?.sessionToken, "tokentext")
        let printed = "\(credentials!)"
        XCTAssertFalse(printed.contains("verysecret"))
        XCTAssertFalse(printed.contains("tokentext"))
    }

    func testLocationParsing() throws {
        XCTAssertEqual(try S3Location(parsing: "s3a://warehouse/market_data/t/data/x.parquet"),
                       S3Location(bucket: "warehouse", key: "market_data/t/data/x.parquet"))
        XCTAssertThrowsError(try S3Location(parsing: "s3://warehouse")) { error in
            XCTAssertEqual((error as? FileIOError)?.kind, .invalidLocation)
            XCTAssertEqual((error as? FileIOError)?.location, "s3://warehouse")
        }
        XCTAssertThrowsError(try S3Location(parsing: "/tmp/x"))
    }
}
