package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code edgefleet model keygen|sign|verify|chunk-stats} as an operator runs them. */
class SyncCommandTest {
    @TempDir
    Path dir;

    @Test
    void keygen_sign_and_verify_with_the_right_and_the_wrong_key() throws Exception {
        assertThat(ProfilesCommandTest.run("model", "keygen", "--key-id", "k1", "--out", dir.toString()).code()).isZero();
        assertThat(ProfilesCommandTest.run("model", "keygen", "--key-id", "k2", "--out", dir.toString()).code()).isZero();
        Path model = SyntheticModels.classifierTflite(dir);
        ProfilesCommandTest.Run sign = ProfilesCommandTest.run("model", "sign", model.toString(), "--model", "cls", "--version", "1",
                "--key", dir.resolve("k1.key").toString(), "--key-id", "k1", "--repo", dir.resolve("repo").toString());
        assertThat(sign.code()).as(sign.err()).isZero();
        assertThat(sign.out()).startsWith("signed cls/1 with key k1: 1 variant(s)");
        Path manifest = dir.resolve("repo/manifests/cls/1.json");
        assertThat(Files.readString(manifest)).contains("\"runtime\":\"tflite\"", "\"precision\":\"fp32\"", "\"signature\":");
        ProfilesCommandTest.Run ok = ProfilesCommandTest.run("model", "verify", manifest.toString(), "--trust", "k1=" + dir.resolve("k1.pub"));
        assertThat(ok.code()).isZero();
        assertThat(ok.out()).contains("signature valid (key k1)");
        ProfilesCommandTest.Run wrong = ProfilesCommandTest.run("model", "verify", manifest.toString(), "--trust", "k2=" + dir.resolve("k2.pub"));
        assertThat(wrong.code()).isEqualTo(Main.FAILED);
        assertThat(wrong.out()).contains("refused (UNKNOWN_KEY)");
        ProfilesCommandTest.Run liar = ProfilesCommandTest.run("model", "verify", manifest.toString(), "--trust", "k1=" + dir.resolve("k2.pub"));
        assertThat(liar.code()).isEqualTo(Main.FAILED);
        assertThat(liar.out()).contains("refused (BAD_SIGNATURE)");
    }

    @Test
    void a_bundle_installs_offline_into_an_agent_data_folder() throws Exception {
        ProfilesCommandTest.run("model", "keygen", "--key-id", "k1", "--out", dir.toString());
        Path model = SyntheticModels.classifierTflite(dir);
        ProfilesCommandTest.run("model", "sign", model.toString(), "--model", "cls", "--version", "7", "--key", dir.resolve("k1.key").toString(),
                "--key-id", "k1", "--repo", dir.resolve("repo").toString());
        ProfilesCommandTest.Run b = ProfilesCommandTest.run("model", "bundle", "--repo", dir.resolve("repo").toString(), "--model", "cls",
                "--version", "7", "--out", dir.resolve("cls-7.efb").toString());
        assertThat(b.code()).as(b.err()).isZero();
        ProfilesCommandTest.Run i = ProfilesCommandTest.run("agent", "install", dir.resolve("cls-7.efb").toString(), "--data-dir",
                dir.resolve("agent-data").toString(), "--trust", "k1=" + dir.resolve("k1.pub"), "--profile", "intel-nuc-13-pro-i5");
        assertThat(i.code()).as(i.err()).isZero();
        assertThat(i.out()).contains("installed cls/7 (variant tflite-fp32)");
        try (var agent = io.edgefleet.agent.EdgeAgent.start(io.edgefleet.agent.AgentConfig.defaults(dir.resolve("agent-data"))
                .withHttp("127.0.0.1", 0).withCoapPort(0))) {
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "7");
        }
    }

    @Test
    void chunk_stats_reports_what_a_device_on_old_must_fetch_for_new() throws Exception {
        byte[] a = new byte[1 << 20];
        new Random(5).nextBytes(a);
        byte[] b = a.clone();
        for (int i = b.length - 50_000; i < b.length; i++) {
            b[i] ^= 0x55;
        }
        Path oldF = Files.write(dir.resolve("old.bin"), a);
        Path newF = Files.write(dir.resolve("new.bin"), b);
        ProfilesCommandTest.Run r = ProfilesCommandTest.run("model", "chunk-stats", oldF.toString(), newF.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).containsPattern("to fetch: .* of 1\\.0 MiB \\((\\d|1\\d)\\.\\d %\\)");
    }
}
