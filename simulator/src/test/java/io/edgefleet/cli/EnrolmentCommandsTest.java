package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.identity.AgentIdentity;
import io.edgefleet.agent.identity.EnrolmentSettings;
import io.edgefleet.cli.ProfilesCommandTest.Run;
import io.edgefleet.cloud.CloudConfig;
import io.edgefleet.cloud.ControlPlane;
import io.edgefleet.cloud.api.Token;
import io.edgefleet.transport.pki.EnrolmentToken;
import io.edgefleet.transport.pki.Identity;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code edgefleet enrolment-tokens create|list|revoke} and {@code devices revoke} against a real control plane. */
class EnrolmentCommandsTest {
    static final String TOKEN = "cli-operator-token-0123456789";
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static String server;

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudConfig.defaults(dir.resolve("cloud")).withHttp("127.0.0.1", 0).withHttpTls(io.edgefleet.cloud.tls.HttpTls.plain())
                .withTokens(List.of(new Token("cli", Token.Role.OPERATOR, TOKEN))));
        server = "http://127.0.0.1:" + cp.port();
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    private static Run cli(String... args) {
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--server";
        all[args.length + 1] = server;
        all[args.length + 2] = "--token";
        all[args.length + 3] = TOKEN;
        return ProfilesCommandTest.run(all);
    }

    @Test
    void an_operator_creates_lists_and_revokes_tokens_and_a_device_enrolled_with_one_is_revoked_by_name() {
        Run created = cli("enrolment-tokens", "create", "--fleet", "plant-1", "--device", "cam-1", "--uses", "1", "--ttl", "30m");
        assertThat(created.code()).as(created.err()).isZero();
        EnrolmentToken token = EnrolmentToken.parse(created.out().strip()); // stdout is the token alone
        assertThat(token.pins(cp.pki().authority().certificate())).isTrue();
        assertThat(created.err()).contains(token.id()).contains("plant-1/cam-1").contains("1 use(s)").contains("Shown once");

        Run list = cli("enrolment-tokens", "list");
        assertThat(list.code()).isZero();
        assertThat(list.out()).contains(token.id()).contains("plant-1").contains("cam-1").contains("active").doesNotContain(token.secret());

        assertThat(cli("devices", "revoke", "plant-1/cam-1").code()).isEqualTo(Main.FAILED); // nothing issued yet: 404
        try (AgentIdentity id = AgentIdentity.open(dir.resolve("cam-1"), "plant-1", "cam-1",
                EnrolmentSettings.of(URI.create(server), Optional.of(created.out().strip())), Clock.systemUTC())) {
            Run revoked = cli("devices", "revoke", "plant-1/cam-1");
            assertThat(revoked.code()).as(revoked.err()).isZero();
            assertThat(revoked.out()).contains("revoked plant-1/cam-1: 1 certificate(s)");
            assertThat(cp.pki().isRevoked(id.certificate().getSerialNumber())).isTrue();
        }
        assertThat(cp.pki().current(Identity.device("plant-1", "cam-1"))).isEmpty();

        Run other = cli("enrolment-tokens", "create", "--fleet", "plant-1", "--uses", "3", "--ttl", "2h");
        String otherId = EnrolmentToken.parse(other.out().strip()).id();
        assertThat(cli("enrolment-tokens", "revoke", otherId).code()).isZero();
        assertThat(cli("enrolment-tokens", "list").out()).containsPattern(otherId + "\\s+plant-1\\s+\\*\\s+revoked");
        Run unknown = cli("enrolment-tokens", "revoke", "0000000000000000");
        assertThat(unknown.code()).isEqualTo(Main.FAILED);
        assertThat(unknown.err()).contains("error 404");
    }

    @Test
    void bad_arguments_are_usage_errors() {
        assertThat(cli("enrolment-tokens", "create", "--fleet", "f", "--ttl", "soon").code()).isEqualTo(2);
        assertThat(cli("devices", "revoke", "no-slash").code()).isEqualTo(2);
        Run tooMany = cli("enrolment-tokens", "create", "--fleet", "f", "--uses", "0");
        assertThat(tooMany.code()).isEqualTo(Main.FAILED);
        assertThat(tooMany.err()).contains("error 400").contains("uses");
    }
}
