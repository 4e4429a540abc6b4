package io.edgefleet.agent.commands;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.agent.slots.Lease;
import io.edgefleet.agent.slots.ModelNotServedException;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.slots.SelfTest;
import io.edgefleet.agent.slots.SlotException;
import io.edgefleet.agent.split.SplitRouter;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.agent.store.CandidateRecord;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.Parameters;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shadows and arms B kept across an agent restart (issue 20): a real SQLite store reopened from its file, real ONNX
 * Runtime models, the command handler's own split and shadow paths. The deployer hands over a file already in the data
 * folder (downloading is model sync's, tested there).
 */
class CandidateRestoreTest {
    @TempDir
    Path dir;
    Path data;
    Path candidate;
    AgentStore store;
    ModelSlots slots;
    SplitRouter router;
    CommandHandler handler;
    final List<CommandAck> acks = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        data = dir.resolve("data");
        open();
        slots.install("clf", "v1", SyntheticModels.rotatedClassifierOnnx(dir, "v1.onnx", 0, 1));
        candidate = SyntheticModels.rotatedClassifierOnnx(Files.createDirectories(data.resolve("models").resolve("clf")), "v2.onnx", 0, 4);
    }

    private void open() {
        store = AgentStore.open(data);
        slots = new ModelSlots(data, store, EngineOptions.defaults(), IsolationOptions.defaults().withSharedVerdicts(true), SelfTest.Limits.defaults());
        router = new SplitRouter(slots);
        handler = new CommandHandler(slots, store, "d-1", Clock.systemUTC(), Optional.of((model, version, progress) -> {
            progress.accept(1.0);
            return candidate;
        }));
        handler.splits(router);
    }

    /** A restart: everything closed, then opened again from the data folder, the active versions restored first. */
    private void restart() {
        slots.close();
        store.close();
        open();
        slots.restore();
    }

    @AfterEach
    void tearDown() {
        slots.close();
        store.close();
    }

    private static Command split(String id, boolean stop) {
        return Command.split("ab-1-" + (stop ? "stop" : "start") + "-f-d-1", "ab-1", "clf", "v2", 0.5, "key", stop, Instant.now());
    }

    private static InferRequest keyed(String key) {
        return new InferRequest(Optional.empty(), Parameters.of(SplitRouter.KEY_PARAMETER, key),
                List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 2}, 0.3f, -0.2f))), List.of());
    }

    /** The arm each of 40 client keys gets, and the version that answers it. */
    private List<String> arms() {
        List<String> out = new ArrayList<>();
        for (int k = 0; k < 40; k++) {
            var s = router.route("clf", keyed("client-" + k)).orElseThrow();
            try (Lease l = s.lease()) {
                out.add(s.arm() + ":" + l.version());
            }
        }
        return out;
    }

    @Test
    void the_store_keeps_candidates_across_a_reopen_of_its_file() {
        store.saveCandidate(new CandidateRecord("clf", "arm-b", "v2", candidate, "ab12", "cmd-1"));
        store.saveCandidate(new CandidateRecord("clf", "shadow", "v3", candidate, "cd34", "cmd-2"));
        store.saveCandidate(new CandidateRecord("clf", "shadow", "v4", candidate, "ef56", "cmd-3")); // replaces v3
        store.close();
        store = AgentStore.open(data);
        assertThat(store.candidates()).containsExactly(new CandidateRecord("clf", "arm-b", "v2", candidate, "ab12", "cmd-1"),
                new CandidateRecord("clf", "shadow", "v4", candidate, "ef56", "cmd-3"));
        store.deleteCandidate("clf", "arm-b");
        assertThat(store.candidates()).extracting(CandidateRecord::role).containsExactly("shadow");
    }

    @Test
    void a_restarted_agent_splits_again_with_the_same_arms_without_a_new_command() {
        handler.handle(split("ab-1", false), acks::add);
        assertThat(acks.getLast().phase()).isEqualTo(AckPhase.ACTIVATED);
        List<String> before = arms();
        assertThat(before).anyMatch(a -> a.equals("b:v2")).anyMatch(a -> a.equals("a:v1"));

        restart();
        assertThat(slots.armBVersion("clf")).as("nothing before the candidates are restored").isEmpty();
        assertThat(handler.restoreCandidates()).isEqualTo(1);
        assertThat(slots.armBVersion("clf")).contains("v2");
        assertThat(router.running("clf")).map(SplitRouter.Experiment::id).contains("ab-1");
        assertThat(arms()).as("every key on the arm it had before the restart").isEqualTo(before);

        handler.handle(split("ab-1", true), acks::add);
        assertThat(slots.armBVersion("clf")).isEmpty();
        assertThat(store.candidates()).as("the stop forgets arm B").isEmpty();
        restart();
        assertThat(handler.restoreCandidates()).isZero();
        assertThat(router.running("clf")).isEmpty();
    }

    @Test
    void a_restarted_agent_samples_its_shadow_again_and_a_rollback_forgets_it() {
        handler.handle(Command.shadow("ro-1-s", "ro-1", "clf", "v2", Instant.now()), acks::add);
        assertThat(acks.getLast().phase()).isEqualTo(AckPhase.SHADOWING);
        restart();
        handler.restoreCandidates();
        assertThat(slots.shadowVersion("clf")).contains("v2");
        assertThat(slots.shadowRollout("clf")).contains("ro-1");
        assertThat(slots.activeVersions()).containsEntry("clf", "v1");

        handler.handle(Command.rollback("ro-1-r", "ro-1", "clf", Optional.of("v1"), Instant.now()), acks::add);
        assertThat(slots.shadowVersion("clf")).isEmpty();
        restart();
        handler.restoreCandidates();
        assertThat(slots.shadowVersion("clf")).as("unloaded before the restart, not back after it").isEmpty();
    }

    @Test
    void a_candidate_whose_file_changed_is_dropped_never_loaded_and_its_command_acked_failed() throws Exception {
        handler.handle(split("ab-1", false), acks::add);
        slots.close();
        store.close();
        Files.write(candidate, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND); // tampered while the agent was down
        open();
        slots.restore();
        acks.clear();
        assertThat(handler.restoreCandidates()).isZero();
        assertThat(slots.armBVersion("clf")).isEmpty();
        assertThat(router.running("clf")).as("no split without its arm B").isEmpty();
        assertThat(store.candidates()).isEmpty();
        assertThat(store.command("ab-1-start-f-d-1").orElseThrow().phase()).isEqualTo("failed");
        assertThat(acks).as("the ack waits for the transport").isEmpty();
        handler.resumePending(acks::add);
        assertThat(acks).singleElement().satisfies(a -> {
            assertThat(a.commandId()).isEqualTo("ab-1-start-f-d-1");
            assertThat(a.phase()).isEqualTo(AckPhase.FAILED);
            assertThat(a.error().orElseThrow().code()).isEqualTo(CommandHandler.NOT_RESTORED);
            assertThat(a.error().orElseThrow().message()).contains("SHA-256");
        });
        acks.clear();
        handler.handle(split("ab-1", false), acks::add); // a redelivery replays the failure: never loaded from that file
        assertThat(acks.getLast().phase()).isEqualTo(AckPhase.FAILED);
        assertThat(slots.armBVersion("clf")).isEmpty();
    }

    /** The candidate's file deleted while the agent was down: dropped, the model still answers from arm A, the ack says why. */
    @Test
    void a_candidate_whose_file_is_gone_is_dropped_and_the_model_still_answers_from_arm_a() throws Exception {
        handler.handle(split("ab-1", false), acks::add);
        slots.close();
        store.close();
        Files.delete(candidate);
        open();
        slots.restore();
        acks.clear();
        assertThat(handler.restoreCandidates()).isZero();
        assertThat(slots.armBVersion("clf")).isEmpty();
        assertThat(store.candidates()).isEmpty();
        assertThat(router.route("clf", keyed("client-1"))).as("no split: plain arm A serving").isEmpty();
        try (Lease l = slots.lease("clf", Optional.empty())) {
            assertThat(l.version()).isEqualTo("v1");
            assertThat(l.model().inferChecked(l.model().check(keyed("client-1").inputs()))).isNotEmpty();
        }
        handler.resumePending(acks::add);
        assertThat(acks).singleElement().satisfies(a -> {
            assertThat(a.phase()).isEqualTo(AckPhase.FAILED);
            assertThat(a.error().orElseThrow().code()).isEqualTo(CommandHandler.NOT_RESTORED);
            assertThat(a.error().orElseThrow().message()).contains("file is gone");
        });
    }

    @Test
    void candidates_load_only_next_to_an_active_other_version() {
        assertThatThrownBy(() -> slots.loadArmB("clf", "v1", candidate)).isInstanceOf(SlotException.class)
                .hasMessageContaining("already active; it cannot be arm B as well");
        assertThatThrownBy(() -> slots.loadShadow("clf", "v1", candidate, Optional.empty())).isInstanceOf(SlotException.class)
                .hasMessageContaining("already active; it cannot run in shadow");
        assertThatThrownBy(() -> slots.loadShadow("other", "v2", candidate, Optional.empty())).isInstanceOf(ModelNotServedException.class)
                .hasMessageContaining("no active version here to run in shadow next to version v2");
        slots.loadShadow("clf", "v2", candidate, Optional.of("ro-1"));
        slots.loadArmB("clf", "v2", candidate);
        assertThat(slots.shadowVersion("clf")).contains("v2");
        assertThat(slots.armBVersion("clf")).contains("v2");
        assertThat(slots.dropArmB("clf")).contains("v2");
        assertThat(slots.shadowVersion("clf")).as("the two roles are separate").contains("v2");
        assertThat(slots.dropShadow("clf")).contains("v2");
        assertThat(slots.dropShadow("clf")).isEmpty();
    }
}
