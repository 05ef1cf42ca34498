import Foundation
import TestSupport
import XCTest

@testable import Iceberg

/// moto_server on loopback with request authentication on: after the first three (unauthenticated) calls
/// that create an IAM user, its policy and its access key, moto checks every request's SigV4 signature
/// with botocore's signer, so a signing mistake fails the test instead of passing silently.
final class MotoS3: @unchecked Sendable {
    let server: BackgroundProcess
    let endpoint: String
    let credentials: S3Credentials
    let directory: URL

    init() throws {
        guard TestEnvironment.hasPythonCheckers else { throw XCTSkip("checker venv missing: run scripts/setup.sh") }
        directory = try TestEnvironment.temporaryDirectory("moto")
        let port = try LocalPort.free()
        endpoint = "http://127.0.0.1:\(port)"
        let motoServer = TestEnvironment.repositoryRoot.appendingPathComponent(".venv/bin/moto_server").path
        server = try BackgroundProcess(
            motoServer, ["-H", "127.0.0.1", "-p", String(port)],
            environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"],
            logFile: directory.appendingPathComponent("moto.log"))
        guard LocalPort.waitUntilListening(port, while: { [server] in server.process.isRunning }) else {
            throw XCTSkip("moto_server did not start: \(server.log)")
        }
        let setup = try ProcessRunner.python(
            """
            import boto3, json, sys
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                               aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
            iam.create_user(UserName="k2")
            iam.put_user_policy(UserName="k2", PolicyName="all", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
            key = iam.create_access_key(UserName="k2")["AccessKey"]
            print(key["AccessKeyId"]); print(key["SecretAccessKey"])
            """, [endpoint])
        guard setup.status == 0 else { throw XCTSkip("moto IAM setup failed: \(setup.stderrText)") }
        let lines = setup.stdoutText.split(separator: "\n").map(String.init)
        credentials = S3Credentials(accessKeyId: lines[0], secretAccessKey: lines[1])
    }

    /// Environment for boto3/pyiceberg run as independent checkers against this server.
    var checkerEnvironment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": credentials.accessKeyId, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
            "AWS_DEFAULT_REGION": "us-east-1", "K2_S3_ENDPOINT": endpoint,
        ]
    }

    /// Runs a Python checker with boto3 `s3` client available as `s3` (path-style, this server).
    func boto3(_ body: String, _ args: [String] = []) throws -> ProcessResult {
        let script = """
            import os, sys, boto3
            from botocore.config import Config
            s3 = boto3.client("s3", endpoint_url=os.environ["K2_S3_ENDPOINT"], region_name="us-east-1",
                              config=Config(s3={"addressing_style": "path"}))

            """ + body
        return try ProcessRunner.run(TestEnvironment.python, ["-c", script] + args, environment: checkerEnvironment)
    }

    func createBucket(_ name: String) throws {
        let result = try boto3("s3.create_bucket(Bucket=sys.argv[1])", [name])
        XCTAssertEqual(result.status, 0, result.stderrText)
    }

    func fileIO(_ configure: (inout S3Configuration) -> Void = { _ in }) throws -> S3FileIO {
        var configuration = S3Configuration(endpoint: endpoint, region: "us-east-1")
        configure(&configuration)
        return try S3FileIO(configuration: configuration, credentials: credentials)
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
