package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.agent.slots.SelfTest;
import io.edgefleet.agent.slots.SlotException;
import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, finding 3: the self-test and the watchdog judge latency on a machine whose every core
 * runs a busy loop, with their default limits, real ONNX Runtime models and the agent's real
 * slots; the watchdog judges on paired timings of the new and the previous version (the previous
 * one kept loaded for the bake). A healthy version (the same computation again) is never refused nor rolled back in 20
 * tries; a version that computes ten times as much (eighty dense layers instead of eight, see
 * {@link SyntheticModels#mlpOnnx}) is caught by both.
 */
class NoisyJudgementsTest {
    /** Rows per request before calibration; {@link #calibrate} multiplies them on fast machines. */
    private static final int MIN_BATCH = 64;
    /** Rows per request at most: 16 times the minimum. */
    private static final int MAX_BATCH = MIN_BATCH * 16;
    /**
     * The healthy version's median model time the calibration aims at, under the busy loops: the
     * slow version then takes about ten times as long, far above the 2 ms floor of both judges on
     * any machine. Without it, a machine twice as fast as the development one ran the slow version
     * in 2.2 ms against 0.2 ms, under the floor, and the watchdog rightly let it be.
     */
    private static final double TARGET_HEALTHY_MILLIS = 1.5;
    private static final int SIZE = 256;
    private static final int HEALTHY_LAYERS = 8;
    private static final int SLOW_LAYERS = 80;
    /** Answers per latency window: above the watchdog's default minimum of 20. */
    private static final int PER_WINDOW = 24;
    /** Answers of the first version: above the watchdog's default minimum baseline of 50. */
    private static final int BASELINE = Watchdog.Limits.DEFAULT_MIN_BASELINE_REQUESTS + 10;

    @TempDir
    Path dir;

    private int batch = MIN_BATCH;
    private InferRequest request = SlotRig.floats(MIN_BATCH, SIZE);

    private Path healthy() throws Exception {
        return SyntheticModels.mlpOnnx(Files.createDirectories(dir.resolve("healthy-" + batch)), batch, SIZE, HEALTHY_LAYERS);
    }

    private Path slow() throws Exception {
        return SyntheticModels.mlpOnnx(Files.createDirectories(dir.resolve("slow-" + batch)), batch, SIZE, SLOW_LAYERS);
    }

    /** Scales the batch to the machine (see {@link SlotRig#calibratedBatch}); call with the busy loops running. */
    private void calibrate() throws Exception {
        batch = SlotRig.calibratedBatch(dir.resolve("calibration"), MIN_BATCH, MAX_BATCH, SIZE, HEALTHY_LAYERS, TARGET_HEALTHY_MILLIS);
        request = SlotRig.floats(batch, SIZE);
    }

    /** The proof; 70 to 130 s on the 2-core development machine at a load average of 30, hence slow. */
    @Test
    @Tag("slow")
    void a_healthy_version_is_never_refused_nor_rolled_back_in_twenty_tries_on_busy_cores() throws Exception {
        healthyTries(20);
    }

    /** The same in the default suite, five times. */
    @Test
    void a_healthy_version_is_never_refused_nor_rolled_back_in_five_tries_on_busy_cores() throws Exception {
        healthyTries(5);
    }

    private void healthyTries(int tries) throws Exception {
        try (BusyCores busy = new BusyCores(); SlotRig rig = new SlotRig(dir.resolve("data"), SelfTest.Limits.defaults(), Watchdog.Limits.defaults())) {
            calibrate();
            Path healthy = healthy();
            assertThat(busy.threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
            rig.slots.install("mlp", "v0", healthy);
            assertThat(rig.send("mlp", BASELINE, request)).isEqualTo(BASELINE); // the first baseline
            for (int t = 1; t <= tries; t++) {
                String version = "v" + t;
                rig.slots.install("mlp", version, healthy); // throws SlotException if the self-test refuses it
                assertThat(rig.slots.activeVersions()).containsEntry("mlp", version);
                for (int w = 0; w < Watchdog.Limits.DEFAULT_SUSTAINED_WINDOWS + 1; w++) {
                    assertThat(rig.send("mlp", PER_WINDOW, request)).isEqualTo(PER_WINDOW);
                    rig.endWindow();
                }
                Watchdog.BakeStatus bake = rig.watchdog.bake("mlp").orElseThrow();
                assertThat(bake.version()).isEqualTo(version);
                assertThat(bake.rollingBack()).as("try %d: %s", t, rig.rollbacks).isFalse();
                // not vacuous: every window was judged, against a measured baseline
                assertThat(bake.baselineMedianMillis()).isPresent();
                assertThat(bake.windowsJudged()).isEqualTo(Watchdog.Limits.DEFAULT_SUSTAINED_WINDOWS + 1);
                // and judged paired: each window timed this version against the one it replaced on the same inputs
                assertThat(bake.pairedWindows()).isEqualTo(bake.windowsJudged());
            }
            assertThat(rig.rollbacks).isEmpty();
            assertThat(rig.slots.activeVersions()).containsEntry("mlp", "v" + tries);
        }
    }

    /**
     * What pairing is for: the previous version's answers were measured while the machine was quiet (here: written into
     * the baseline as a hundredth of today's model time), then the machine got busier and every answer slower. Compared
     * with that earlier baseline, the same computation looks far slower and is rolled back (the unpaired rule's false
     * alarm, shown here with pairing off); timed back to back with the previous version on the same inputs, it is not.
     */
    @Test
    void a_machine_that_got_busier_after_the_baseline_rolls_back_a_healthy_version_only_when_unpaired() throws Exception {
        batch = SlotRig.calibratedBatch(dir.resolve("calibration"), MIN_BATCH, MAX_BATCH, SIZE, HEALTHY_LAYERS, 8.0);
        request = SlotRig.floats(batch, SIZE);
        Path healthy = healthy();
        for (int pairs : new int[] {0, Watchdog.Limits.DEFAULT_PAIRS_PER_WINDOW}) {
            try (SlotRig rig = new SlotRig(dir.resolve("data-" + pairs), SelfTest.Limits.defaults(),
                    Watchdog.Limits.defaults().withPairsPerWindow(pairs))) {
                rig.slots.install("mlp", "1", healthy);
                double quiet = 0.05;
                for (int i = 0; i < BASELINE; i++) {
                    rig.watchdog.observe(new io.edgefleet.agent.telemetry.Observation("mlp", "1", quiet, false, java.util.OptionalDouble.empty(),
                            false, false, false, java.util.Map.of()));
                }
                rig.slots.install("mlp", "2", healthy);
                for (int w = 0; w < Watchdog.Limits.DEFAULT_SUSTAINED_WINDOWS; w++) {
                    assertThat(rig.send("mlp", PER_WINDOW, request)).isEqualTo(PER_WINDOW);
                    rig.endWindow();
                }
                if (pairs == 0) {
                    rig.awaitRollbackTo("mlp", "1");
                    assertThat(rig.rollbacks).singleElement().asString().contains("times the previous version's 0.05 ms");
                } else {
                    Watchdog.BakeStatus bake = rig.watchdog.bake("mlp").orElseThrow();
                    assertThat(bake.rollingBack()).as("%s", rig.rollbacks).isFalse();
                    assertThat(bake.pairedWindows()).isEqualTo(Watchdog.Limits.DEFAULT_SUSTAINED_WINDOWS);
                    assertThat(rig.rollbacks).isEmpty();
                    assertThat(rig.slots.activeVersions()).containsEntry("mlp", "2");
                }
            }
        }
    }

    @Test
    void a_ten_times_slower_version_is_refused_by_the_self_test_on_busy_cores() throws Exception {
        try (BusyCores busy = new BusyCores(); SlotRig rig = new SlotRig(dir.resolve("data"), SelfTest.Limits.defaults(), Watchdog.Limits.defaults())) {
            calibrate();
            Path healthy = healthy();
            Path slow = slow();
            rig.slots.install("mlp", "1", healthy);
            for (int t = 0; t < 3; t++) {
                String version = "slow-" + t;
                assertThatThrownBy(() -> rig.slots.install("mlp", version, slow)).isInstanceOf(SlotException.class)
                        .hasMessageStartingWith("model 'mlp' version " + version + " failed its self-test: latency more than ")
                        .hasMessageContaining("in two rounds");
                assertThat(rig.slots.activeVersions()).containsEntry("mlp", "1");
            }
        }
    }

    @Test
    void a_ten_times_slower_version_is_rolled_back_by_the_watchdog_on_busy_cores() throws Exception {
        // a self-test that lets anything through, so the watchdog is what must catch it
        SelfTest.Limits lenient = SelfTest.Limits.defaults().withMaxLatencyFactor(1000);
        try (BusyCores busy = new BusyCores(); SlotRig rig = new SlotRig(dir.resolve("data"), lenient, Watchdog.Limits.defaults())) {
            calibrate();
            Path healthy = healthy();
            Path slow = slow();
            rig.slots.install("mlp", "1", healthy);
            assertThat(rig.send("mlp", BASELINE, request)).isEqualTo(BASELINE);
            rig.slots.install("mlp", "2", slow);
            for (int w = 1; w < Watchdog.Limits.DEFAULT_SUSTAINED_WINDOWS; w++) {
                rig.send("mlp", PER_WINDOW, request);
                rig.endWindow();
                assertThat(rig.watchdog.bake("mlp").orElseThrow().violatingInARow()).isEqualTo(w);
                assertThat(rig.slots.activeVersions()).as("sustained means %d windows, not %d", Watchdog.Limits.DEFAULT_SUSTAINED_WINDOWS, w)
                        .containsEntry("mlp", "2");
            }
            rig.send("mlp", PER_WINDOW, request);
            rig.endWindow();
            rig.awaitRollbackTo("mlp", "1");
            assertThat(rig.rollbacks).singleElement().asString()
                    .startsWith("mlp: version 2 rolled back to 1: in each of 3 windows ")
                    .contains("in each of 3 windows of 10 s in a row, timed back to back with the previous version on the same live inputs",
                            "over 3.0 times and more than 2.00 ms slower in at least ");
            assertThat(rig.slots.standby("mlp")).as("after a rollback there is nothing to compare with: no standby").isEmpty();
        }
    }
}
