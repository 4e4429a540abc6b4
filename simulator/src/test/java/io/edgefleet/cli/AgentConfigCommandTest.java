package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad agent settings stop the agent before it starts, with a message that names the setting. */
class AgentConfigCommandTest {
    @TempDir
    Path dir;

    @Test
    void an_out_of_range_port_in_the_config_file_is_refused() throws Exception {
        Path conf = Files.writeString(dir.resolve("agent.yaml"), "agent:\n  data-dir: " + dir.resolve("data") + "\n  http:\n    port: 70000\n");
        ProfilesCommandTest.Run r = ProfilesCommandTest.run("agent", "--config", conf.toString());
        assertThat(r.code()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("http port must be -1 (off) or 0..65535, got 70000");
    }

    @Test
    void an_invalid_device_id_or_an_unknown_profile_is_refused() {
        ProfilesCommandTest.Run bad = ProfilesCommandTest.run("agent", "--data-dir", dir.resolve("d1").toString(), "--device", "cam/1");
        assertThat(bad.code()).isEqualTo(Main.FAILED);
        assertThat(bad.err()).contains("device: 'cam/1' is not a valid id");
        ProfilesCommandTest.Run profile = ProfilesCommandTest.run("agent", "--data-dir", dir.resolve("d2").toString(), "--profile", "toaster");
        assertThat(profile.code()).isEqualTo(Main.FAILED);
        assertThat(profile.err()).contains("unknown device profile 'toaster'");
        ProfilesCommandTest.Run sync = ProfilesCommandTest.run("agent", "--data-dir", dir.resolve("d3").toString(), "--sync-url", "http://127.0.0.1:1");
        assertThat(sync.code()).isEqualTo(Main.USAGE);
        assertThat(sync.err()).contains("--sync-url needs at least one --trust KEYID=FILE");
        ProfilesCommandTest.Run trustAlone = ProfilesCommandTest.run("agent", "--data-dir", dir.resolve("d4").toString(), "--trust", "k=none.pub");
        assertThat(trustAlone.code()).isEqualTo(Main.USAGE);
        assertThat(trustAlone.err()).contains("--trust needs a sync source: --sync-url URL, or --control-plane URL");
        // a --trust that is no key: one line naming the argument, no stack trace
        java.nio.file.Path notKey = dir.resolve("not-a-key.pub");
        try {
            java.nio.file.Files.writeString(notKey, "not a key\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        for (String trustArg : java.util.List.of("k=" + notKey, "k=" + dir.resolve("missing.pub"), "k=" + dir)) {
            ProfilesCommandTest.Run r = ProfilesCommandTest.run("agent", "--data-dir", dir.resolve("d5").toString(), "--control-plane",
                    "http://127.0.0.1:1", "--trust", trustArg);
            assertThat(r.code()).as(trustArg).isEqualTo(Main.FAILED);
            assertThat(r.err()).as(trustArg).contains("--trust " + trustArg + ": ").doesNotContain("Exception", "\tat ");
        }
    }

    @Test
    void model_sync_comes_from_the_sync_url_else_the_config_else_the_control_plane() {
        // A new user's agent started with --control-plane and --trust failed every deploy ("no model sync configured").
        io.edgefleet.agent.AgentConfig plain = io.edgefleet.agent.AgentConfig.defaults(dir.resolve("s"));
        java.net.URI cloud = java.net.URI.create("https://cloud.example:8080");
        io.edgefleet.agent.AgentConfig enrolled = plain.withEnrolment(io.edgefleet.agent.identity.EnrolmentSettings.of(cloud,
                java.util.Optional.empty()));
        assertThat(AgentCommand.syncSource(null, plain)).isEmpty();
        assertThat(AgentCommand.syncSource(null, enrolled)).contains(cloud);
        java.net.URI other = java.net.URI.create("https://sync.example:8443");
        assertThat(AgentCommand.syncSource(other, enrolled)).contains(other);
        io.edgefleet.agent.AgentConfig configured = enrolled.withSync(new io.edgefleet.agent.AgentConfig.Sync(other, java.util.Map.of(), 0));
        assertThat(AgentCommand.syncSource(null, configured)).contains(other);
        // the start-up warning: an agent that enrols (--control-plane) is connected too, though its broker URL comes later
        assertThat(AgentCommand.connectedWithoutSync(plain)).isFalse();
        assertThat(AgentCommand.connectedWithoutSync(enrolled)).isTrue();
        assertThat(AgentCommand.connectedWithoutSync(configured)).isFalse();
    }

    @Test
    void an_agent_with_a_control_plane_but_no_identity_and_no_usable_token_does_not_start() {
        ProfilesCommandTest.Run tokenAlone = ProfilesCommandTest.run("agent", "--data-dir", dir.resolve("e1").toString(), "--enrol-token", "ef1.x");
        assertThat(tokenAlone.code()).isEqualTo(Main.USAGE);
        assertThat(tokenAlone.err()).contains("--enrol-token needs --control-plane");
        ProfilesCommandTest.Run noToken = ProfilesCommandTest.run("agent", "--data-dir", dir.resolve("e2").toString(), "--http-port", "0",
                "--coap-port", "-1", "--control-plane", "http://127.0.0.1:1");
        assertThat(noToken.code()).isEqualTo(Main.FAILED);
        assertThat(noToken.err()).contains("no valid certificate").contains("--enrol-token");
        String secretish = "ef1.0123456789abcdef.not-a-valid-secret-at-all";
        ProfilesCommandTest.Run malformed = ProfilesCommandTest.run("agent", "--data-dir", dir.resolve("e3").toString(), "--http-port", "0",
                "--coap-port", "-1", "--control-plane", "http://127.0.0.1:1", "--enrol-token", secretish);
        assertThat(malformed.code()).isEqualTo(Main.FAILED);
        assertThat(malformed.err()).contains("enrolment token is malformed").doesNotContain("not-a-valid-secret-at-all");
        assertThat(Files.exists(dir.resolve("e3/identity/key.pem"))).isFalse();
    }
}
