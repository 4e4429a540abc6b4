package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cli.ProfilesCommandTest.Run;
import io.edgefleet.cloud.CloudConfig;
import io.edgefleet.cloud.ControlPlane;
import io.edgefleet.cloud.access.Scope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code edgefleet tokens create|list|revoke} and {@code edgefleet audit} against a real control
 * plane started with the embedded defaults, so its operator and viewer token files are created on
 * first start and used by the CLI as the README shows ({@code --token-file}).
 */
class AccessCommandsTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static String server;
    static Path operatorFile;
    static Path viewerFile;

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudConfig.defaults(dir.resolve("cloud")).withHttp("127.0.0.1", 0)
                .withHttpTls(io.edgefleet.cloud.tls.HttpTls.plain())); // the CLI over HTTPS with --ca: CloudCommandsTest
        server = "http://127.0.0.1:" + cp.port();
        operatorFile = dir.resolve("cloud/tokens/operator.token");
        viewerFile = dir.resolve("cloud/tokens/viewer.token");
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    private static Run cli(Path tokenFile, String... args) {
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--server";
        all[args.length + 1] = server;
        all[args.length + 2] = "--token-file";
        all[args.length + 3] = tokenFile.toString();
        return ProfilesCommandTest.run(all);
    }

    @Test
    void first_start_creates_token_files_that_become_named_tokens() throws Exception {
        assertThat(Files.readString(operatorFile).strip()).startsWith("eft_");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(operatorFile))).isEqualTo("rw-------");
        Run list = cli(operatorFile, "tokens", "list");
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).startsWith("NAME").contains("operator").contains("viewer").contains("tokens:admin");
        assertThat(list.out()).doesNotContain(Files.readString(operatorFile).strip()).doesNotContain(Files.readString(viewerFile).strip());
        Run viewer = cli(viewerFile, "devices", "list");
        assertThat(viewer.code()).as(viewer.err()).isZero();
        Run refused = cli(viewerFile, "tokens", "list");
        assertThat(refused.code()).isEqualTo(Main.FAILED);
        assertThat(refused.err()).contains("error 403").contains(Scope.TOKENS_ADMIN.wire());
    }

    @Test
    void create_prints_the_secret_once_and_revoke_makes_it_useless() throws Exception {
        Run created = cli(operatorFile, "tokens", "create", "ci-pipeline", "--scope", "models:read", "--scope", "fleet:read,rollouts:read",
                "--ttl", "7d");
        assertThat(created.code()).as(created.err()).isZero();
        // the secret alone on stdout: redirected to a file, it is a usable --token-file
        assertThat(created.out().strip()).matches("eft_[A-Za-z0-9_-]{43}");
        Path secretFile = Files.writeString(dir.resolve("ci.token"), created.out());
        assertThat(created.err()).contains("ci-pipeline").contains("fleet:read models:read rollouts:read").doesNotContain("eft_");

        Run used = cli(secretFile, "devices", "list");
        assertThat(used.code()).as(used.err()).isZero();
        Run list = cli(operatorFile, "tokens", "list");
        assertThat(list.out()).contains("ci-pipeline").doesNotContain(created.out().strip());

        Run revoked = cli(operatorFile, "tokens", "revoke", "ci-pipeline");
        assertThat(revoked.code()).as(revoked.err()).isZero();
        assertThat(revoked.out()).contains("token ci-pipeline revoked");
        Run after = cli(secretFile, "devices", "list");
        assertThat(after.code()).isEqualTo(Main.FAILED);
        assertThat(after.err()).contains("error 401").contains("revoked");
        Run again = cli(operatorFile, "tokens", "revoke", "ci-pipeline");
        assertThat(again.code()).isEqualTo(Main.FAILED);
        assertThat(again.err()).contains("error 404");

        Run bad = cli(operatorFile, "tokens", "create", "x", "--scope", "everything");
        assertThat(bad.code()).isEqualTo(Main.FAILED);
        assertThat(bad.err()).contains("error 400").contains("everything");
    }

    @Test
    void audit_lists_who_did_what_from_where() {
        assertThat(cli(operatorFile, "tokens", "create", "audited", "--scope", "fleet:read").code()).isZero();
        assertThat(cli(viewerFile, "tokens", "revoke", "audited").code()).isEqualTo(Main.FAILED);
        Run audit = cli(operatorFile, "audit", "--since", "-1h");
        assertThat(audit.code()).as(audit.err()).isZero();
        assertThat(audit.out()).startsWith("AT").contains("token:operator").contains("/api/v1/tokens").contains("201").contains("127.0.0.1");
        assertThat(audit.out().lines().filter(l -> l.contains("token:viewer") && l.contains("/api/v1/tokens/audited/revoke")
                && l.contains("403"))).hasSize(1);
        Run byActor = cli(operatorFile, "audit", "--actor", "viewer", "--limit", "5");
        assertThat(byActor.code()).isZero();
        assertThat(byActor.out().lines().skip(1).filter(l -> l.startsWith("20"))).allSatisfy(l -> assertThat(l).contains("token:viewer"));
        Run refused = cli(viewerFile, "audit");
        assertThat(refused.code()).isEqualTo(Main.FAILED);
        assertThat(refused.err()).contains("error 403").contains("audit:read");
    }
}
