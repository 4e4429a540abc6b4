package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.commands.CommandHandler;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.sync.ManifestBuilder;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.server.DirectoryManifests;
import io.edgefleet.sync.server.SyncRoutes;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.sync.signing.ManifestSigning;
import io.helidon.webserver.WebServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The deploy command end to end: signed manifest, chunk download, verification, activation, and the refusals. */
class AgentDeployTest {
    @TempDir
    Path dir;
    WebServer syncServer;
    ChunkStore serverChunks;
    DirectoryManifests manifests;
    KeyPair key;
    EdgeAgent agent;

    @BeforeEach
    void start() throws Exception {
        serverChunks = new ChunkStore(dir.resolve("cloud-chunks"));
        manifests = new DirectoryManifests(dir.resolve("cloud-manifests"));
        key = Keys.generate();
        Path v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
        Manifest m = new ManifestBuilder(serverChunks, "cls", "2", "k1")
                .variant("tflite-fp32", v2, "tflite", Optional.of("2.6"), Precision.FP32, Optional.empty(), List.of(), List.of(), List.of())
                .build(Instant.now(), Optional.empty());
        manifests.put("cls", "2", MessageCodec.json().encode(ManifestSigning.sign(m, key.getPrivate())));
        Manifest other = new ManifestBuilder(serverChunks, "cls", "3", "k9")
                .variant("tflite-fp32", v2, "tflite", Optional.of("2.6"), Precision.FP32, Optional.empty(), List.of(), List.of(), List.of())
                .build(Instant.now(), Optional.empty());
        manifests.put("cls", "3", MessageCodec.json().encode(ManifestSigning.sign(other, Keys.generate().getPrivate())));
        syncServer = WebServer.builder()
                .connectionOptions(o -> o.tcpNoDelay(true)) // small responses otherwise wait on Nagle + delayed ACK: 25 ms per chunk measured
                .host("127.0.0.1").port(0).routing(new SyncRoutes(manifests, serverChunks, 8)::routing).build().start();
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withProfile("raspberry-pi-4-4gb", io.edgefleet.engines.EngineOptions.defaults())
                .withSync(new AgentConfig.Sync(URI.create("http://127.0.0.1:" + syncServer.port()), Map.of("k1", key.getPublic()))));
    }

    @AfterEach
    void stop() {
        agent.close();
        syncServer.stop();
    }

    private CommandHandler handler() {
        return new CommandHandler(agent.slots(), agent.store(), "d", Clock.systemUTC(), Optional.of(new io.edgefleet.agent.commands.SyncDeployer(
                new io.edgefleet.sync.client.SyncClient(URI.create("http://127.0.0.1:" + syncServer.port()), new ChunkStore(dir.resolve("data/sync")),
                        Map.of("k1", key.getPublic()), io.edgefleet.sync.client.SyncClient.Options.defaults(), Clock.systemUTC()),
                io.edgefleet.profiles.catalog.DeviceCatalog.builtIn().get("raspberry-pi-4-4gb"), dir.resolve("data"))));
    }

    @Test
    void deploy_downloads_verifies_activates_and_acknowledges_each_phase() {
        List<CommandAck> acks = new ArrayList<>();
        handler().handle(Command.deploy("cmd-d1", "ro-1", "cls", "2", true, Instant.now()), acks::add);
        assertThat(acks).extracting(CommandAck::phase).startsWith(AckPhase.RECEIVED, AckPhase.DOWNLOADING)
                .endsWith(AckPhase.VERIFIED, AckPhase.ACTIVATED);
        assertThat(acks.stream().filter(a -> a.phase() == AckPhase.DOWNLOADING).reduce((a, b) -> b).orElseThrow().progress()).hasValue(1.0);
        assertThat(agent.slots().activeVersions()).containsEntry("cls", "2");
        var answer = agent.inference().infer("cls", Optional.empty(),
                InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, 1, 2, 3, 4))));
        assertThat(answer.modelVersion()).contains("2");
        assertThat(Files.exists(dir.resolve("data/models/cls/2.tflite"))).isTrue();
    }

    @Test
    void a_manifest_signed_by_an_untrusted_key_is_refused_and_the_active_version_keeps_serving() {
        String before = agent.slots().activeVersions().get("cls");
        List<CommandAck> acks = new ArrayList<>();
        handler().handle(Command.deploy("cmd-d2", null, "cls", "3", true, Instant.now()), acks::add);
        CommandAck last = acks.get(acks.size() - 1);
        assertThat(last.phase()).isEqualTo(AckPhase.FAILED);
        assertThat(last.error().orElseThrow().code()).isEqualTo("manifest-rejected");
        assertThat(last.error().orElseThrow().message()).contains("which this host does not trust");
        assertThat(agent.slots().activeVersions()).containsEntry("cls", before);
    }

    @Test
    void a_validly_signed_manifest_of_another_version_is_refused_with_the_reason_and_nothing_is_stored() throws Exception {
        // the finding: told to deploy cls@4, served the validly signed manifest of another version, the agent stored its bytes as 4
        manifests.put("cls", "4", manifests.manifest("cls", "2").orElseThrow());
        String before = agent.slots().activeVersions().get("cls");
        List<CommandAck> acks = new ArrayList<>();
        handler().handle(Command.deploy("cmd-w1", "ro-w", "cls", "4", true, Instant.now()), acks::add);
        CommandAck last = acks.get(acks.size() - 1);
        assertThat(last.phase()).isEqualTo(AckPhase.FAILED);
        assertThat(last.error().orElseThrow().code()).isEqualTo("manifest-rejected");
        assertThat(last.error().orElseThrow().message()).isEqualTo("asked for manifest cls/4, the server sent the manifest of cls/2; refusing it");
        assertThat(acks).extracting(CommandAck::phase).doesNotContain(AckPhase.DOWNLOADING, AckPhase.VERIFIED, AckPhase.ACTIVATED);
        assertThat(dir.resolve("data/models/cls/4.tflite")).doesNotExist();
        assertThat(agent.slots().activeVersions()).containsEntry("cls", before);
    }

    @Test
    void a_wrong_file_already_under_the_versions_name_is_downloaded_again_before_activation() throws Exception {
        // what an unbound manifest used to leave behind: other bytes at data/models/cls/2.tflite
        Path stale = dir.resolve("data/models/cls/2.tflite");
        Files.createDirectories(stale.getParent());
        Files.copy(SyntheticModels.addInt32Tflite(Files.createDirectories(dir.resolve("other"))), stale);
        List<CommandAck> acks = new ArrayList<>();
        handler().handle(Command.deploy("cmd-t1", null, "cls", "2", true, Instant.now()), acks::add);
        assertThat(acks).extracting(CommandAck::phase).contains(AckPhase.DOWNLOADING).endsWith(AckPhase.VERIFIED, AckPhase.ACTIVATED);
        assertThat(Files.readAllBytes(stale)).as("the genuine v2").isEqualTo(Files.readAllBytes(genuineV2()));
        assertClassifierServes("2");
    }

    @Test
    void a_staged_file_tampered_with_before_its_activate_is_fetched_again_and_the_activation_is_correct() throws Exception {
        List<CommandAck> acks = new ArrayList<>();
        CommandHandler h = handler();
        h.handle(Command.deploy("cmd-t2", null, "cls", "2", false, Instant.now()), acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).isEqualTo(AckPhase.VERIFIED);
        Path staged = dir.resolve("data/models/cls/2.tflite");
        byte[] bytes = Files.readAllBytes(staged);
        bytes[bytes.length / 2] ^= 0x55; // a weight changed on disk after verification
        Files.write(staged, bytes);
        acks.clear();
        h.handle(Command.activate("cmd-t3", null, "cls", "2", Instant.now()), acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).as("%s", acks).isEqualTo(AckPhase.ACTIVATED);
        assertThat(Files.readAllBytes(staged)).isEqualTo(Files.readAllBytes(genuineV2()));
        assertClassifierServes("2");
    }

    /** A Raspberry Pi as the host probe judges one: linux/aarch64, nothing configured (TFLite not loadable, ONNX Runtime bundled). */
    private CommandHandler piHandler() {
        HostRuntimes pi = new HostRuntimes(() -> io.edgefleet.profiles.probe.HostProbe.create().withInputs(new io.edgefleet.profiles.probe.ProbeInputs(
                io.edgefleet.profiles.probe.Platform.linux("aarch64"), Map.of())).runtimes());
        return new CommandHandler(agent.slots(), agent.store(), "pi-7", Clock.systemUTC(), Optional.of(new io.edgefleet.agent.commands.SyncDeployer(
                new io.edgefleet.sync.client.SyncClient(URI.create("http://127.0.0.1:" + syncServer.port()), new ChunkStore(dir.resolve("data/sync")),
                        Map.of("k1", key.getPublic()), io.edgefleet.sync.client.SyncClient.Options.defaults(), Clock.systemUTC()),
                io.edgefleet.profiles.catalog.DeviceCatalog.builtIn().get("raspberry-pi-4-4gb"), dir.resolve("data"), pi::notLoadable, "pi-7")));
    }

    @Test
    void a_pi_that_cannot_load_tflite_gets_the_onnx_variant() throws Exception {
        // int8 TFLite ranks first on a Pi 4; the fp32 ONNX variant is the one that runs there
        Path tflite = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v5t")));
        Path onnx = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v5o")));
        Manifest both = new ManifestBuilder(serverChunks, "cls", "5", "k1")
                .variant("tflite-int8", tflite, "tflite", Optional.of("2.6"), Precision.INT8, Optional.empty(), List.of(), List.of(), List.of())
                .variant("onnx-fp32", onnx, "onnxruntime", Optional.of("1.20"), Precision.FP32, Optional.empty(), List.of(), List.of(), List.of())
                .build(Instant.now(), Optional.empty());
        manifests.put("cls", "5", MessageCodec.json().encode(ManifestSigning.sign(both, key.getPrivate())));
        List<CommandAck> acks = new ArrayList<>();
        piHandler().handle(Command.deploy("cmd-p1", "ro-p", "cls", "5", true, Instant.now()), acks::add);
        assertThat(acks).extracting(CommandAck::phase).endsWith(AckPhase.VERIFIED, AckPhase.ACTIVATED);
        assertThat(dir.resolve("data/models/cls/5.onnx")).exists();
        assertThat(dir.resolve("data/models/cls/5.tflite")).doesNotExist();
        assertClassifierServes("5");
    }

    @Test
    void a_pi_that_cannot_load_tflite_refuses_a_tflite_only_model_with_the_reason_before_downloading() {
        String before = agent.slots().activeVersions().get("cls");
        List<CommandAck> acks = new ArrayList<>();
        piHandler().handle(Command.deploy("cmd-p2", "ro-p", "cls", "2", true, Instant.now()), acks::add);
        CommandAck last = acks.get(acks.size() - 1);
        assertThat(last.phase()).isEqualTo(AckPhase.FAILED);
        assertThat(last.error().orElseThrow().code()).isEqualTo("no-variant");
        assertThat(last.error().orElseThrow().message()).startsWith("no variant of model cls/2 runs on pi-7 (profile raspberry-pi-4-4gb): "
                + "tflite-fp32: tflite not loadable on the device (no TensorFlow Lite JNI library is bundled for linux/aarch64");
        assertThat(acks).extracting(CommandAck::phase).doesNotContain(AckPhase.VERIFIED, AckPhase.ACTIVATED);
        assertThat(dir.resolve("data/models/cls/2.tflite")).doesNotExist();
        assertThat(agent.slots().activeVersions()).containsEntry("cls", before);
    }

    private Path genuineV2() {
        Manifest m = MessageCodec.json().decode(manifests.manifest("cls", "2").orElseThrow(), Manifest.class);
        Path out = dir.resolve("genuine-v2.tflite");
        if (!Files.exists(out)) {
            List<String> missing = io.edgefleet.sync.client.Assembler.assemble(serverChunks, m.variants().get(0), out);
            assertThat(missing).isEmpty();
        }
        return out;
    }

    private void assertClassifierServes(String version) {
        assertThat(agent.slots().activeVersions()).containsEntry("cls", version);
        var answer = agent.inference().infer("cls", Optional.empty(),
                InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, 1, 2, 3, 4))));
        assertThat(answer.modelVersion()).contains(version);
        float[] expected = SyntheticModels.classify(new float[] {1, 2, 3, 4});
        assertThat(answer.outputs().get(0).data().toFloatArray()).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));
    }

    @Test
    void download_only_stages_and_a_later_activate_switches() {
        List<CommandAck> acks = new ArrayList<>();
        CommandHandler h = handler();
        h.handle(Command.deploy("cmd-d3", null, "cls", "2", false, Instant.now()), acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).isEqualTo(AckPhase.VERIFIED);
        assertThat(agent.slots().activeVersions().get("cls")).isNotEqualTo("2");
        h.handle(Command.activate("cmd-d4", null, "cls", "2", Instant.now()), acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).isEqualTo(AckPhase.ACTIVATED);
        assertThat(agent.slots().activeVersions()).containsEntry("cls", "2");
    }

    @Test
    void a_command_recorded_before_a_crash_is_finished_after_the_restart_and_not_run_twice() {
        CommandHandler before = handler();
        Command cmd = Command.deploy("cmd-d5", null, "cls", "2", true, Instant.now());
        before.accept(cmd); // the transport recorded it, then the process died before running it
        List<CommandAck> acks = new ArrayList<>();
        handler().resumePending(acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).isEqualTo(AckPhase.ACTIVATED);
        assertThat(agent.slots().activeVersions()).containsEntry("cls", "2");
        acks.clear();
        handler().handle(cmd, acks::add); // a late redelivery: the recorded outcome, nothing runs
        assertThat(acks).extracting(CommandAck::phase).containsExactly(AckPhase.ACTIVATED);
        acks.clear();
        handler().resumePending(acks::add);
        assertThat(acks).isEmpty();
    }

    @Test
    void a_command_older_than_the_highest_fencing_token_seen_is_refused_with_the_reason_and_not_recorded_even_after_a_restart() {
        String original = agent.slots().activeVersions().get("cls");
        List<CommandAck> acks = new ArrayList<>();
        handler().handle(Command.deploy("cmd-f1", "ro-1", "cls", "2", true, Instant.now()).withFencingToken(5), acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).isEqualTo(AckPhase.ACTIVATED);
        assertThat(acks).allSatisfy(a -> assertThat(a.fencingToken()).as("every ack carries the command's token").hasValue(5));
        assertThat(agent.store().fencingToken()).isEqualTo(5);
        // the deposed leader (token 4) sends its late rollback: refused, the device stays on 2
        acks.clear();
        Command stale = Command.rollback("cmd-f2", "ro-1", "cls", Optional.of(original), Instant.now()).withFencingToken(4);
        handler().handle(stale, acks::add);
        assertThat(acks).hasSize(1);
        CommandAck refused = acks.get(0);
        assertThat(refused.phase()).isEqualTo(AckPhase.FAILED);
        assertThat(refused.staleRefusal()).isTrue();
        assertThat(refused.fencingToken()).hasValue(4);
        assertThat(refused.error().orElseThrow().message())
                .isEqualTo("command cmd-f2 carries fencing token 4 but this device has seen token 5 from a newer control-plane leader; refused as stale");
        assertThat(agent.slots().activeVersions()).containsEntry("cls", "2");
        assertThat(agent.store().command("cmd-f2")).as("a stale command is not recorded").isEmpty();
        // the token survives a restart of the store
        Path data = dir.resolve("data");
        agent.close();
        try (io.edgefleet.agent.store.AgentStore reopened = io.edgefleet.agent.store.AgentStore.open(data)) {
            assertThat(reopened.fencingToken()).isEqualTo(5);
            assertThat(reopened.raiseFencingToken(3)).as("the remembered token never goes down").isEqualTo(5);
        }
        agent = EdgeAgent.start(AgentConfig.defaults(data).withModelsDir(dir.resolve("models")).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withProfile("raspberry-pi-4-4gb", io.edgefleet.engines.EngineOptions.defaults())
                .withSync(new AgentConfig.Sync(URI.create("http://127.0.0.1:" + syncServer.port()), Map.of("k1", key.getPublic()))));
        acks.clear();
        handler().handle(stale, acks::add);
        assertThat(acks).singleElement().satisfies(a -> assertThat(a.staleRefusal()).isTrue());
        // the same command id from the current leader (token 6) runs: the refusal did not use it up; a command without a token passes
        acks.clear();
        handler().handle(Command.rollback("cmd-f2", "ro-1", "cls", Optional.of(original), Instant.now()).withFencingToken(6), acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).isEqualTo(AckPhase.ROLLED_BACK);
        assertThat(agent.store().fencingToken()).isEqualTo(6);
        acks.clear();
        handler().handle(Command.deploy("cmd-f3", null, "cls", "2", true, Instant.now()), acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).isEqualTo(AckPhase.ACTIVATED);
    }

    @Test
    void a_rollback_naming_its_target_goes_only_there_and_refuses_any_other_version() {
        String original = agent.slots().activeVersions().get("cls");
        List<CommandAck> acks = new ArrayList<>();
        CommandHandler h = handler();
        h.handle(Command.deploy("cmd-r0", null, "cls", "2", true, Instant.now()), acks::add);
        assertThat(agent.slots().activeVersions()).containsEntry("cls", "2");
        acks.clear();
        h.handle(Command.rollback("cmd-r1", null, "cls", Optional.of("9"), Instant.now()), acks::add);
        CommandAck refused = acks.get(acks.size() - 1);
        assertThat(refused.phase()).isEqualTo(AckPhase.FAILED);
        assertThat(refused.error().orElseThrow().code()).isEqualTo("rollback-target");
        assertThat(refused.error().orElseThrow().message()).contains("neither active (2) nor the previous version (" + original + ")");
        assertThat(agent.slots().activeVersions()).containsEntry("cls", "2");
        acks.clear();
        h.handle(Command.rollback("cmd-r2", null, "cls", Optional.of(original), Instant.now()), acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).isEqualTo(AckPhase.ROLLED_BACK);
        assertThat(agent.slots().activeVersions()).containsEntry("cls", original);
        acks.clear();
        h.handle(Command.rollback("cmd-r3", null, "cls", Optional.of(original), Instant.now()), acks::add);
        assertThat(acks.get(acks.size() - 1).phase()).as("already there: done, nothing swapped").isEqualTo(AckPhase.ROLLED_BACK);
        assertThat(agent.slots().activeVersions()).containsEntry("cls", original);
    }
}
