package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.TelemetryStoreAndForwardTest.StepClock;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.agent.telemetry.Observation;
import io.edgefleet.agent.telemetry.ResourceProbe;
import io.edgefleet.agent.telemetry.TelemetryRecorder;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.ResourceUsage;
import io.edgefleet.protocols.messages.TelemetryBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The resources a telemetry window carries: read from this host's real /proc and JDK beans, stepped with a clock. */
class TelemetryResourcesTest {
    @TempDir
    Path dir;

    private static TelemetryBatch last(AgentStore store) {
        var rows = store.peekOutbox(1000);
        return MessageCodec.json().decode(rows.get(rows.size() - 1).getValue(), TelemetryBatch.class);
    }

    @Test
    void a_window_with_requests_carries_resources_and_an_idle_device_reports_them_alone_once_per_heartbeat() throws Exception {
        try (AgentStore store = AgentStore.open(dir.resolve("data"))) {
            StepClock clock = new StepClock();
            ResourceProbe probe = ResourceProbe.create(dir);
            // /proc/stat counts in clock ticks (1/USER_HZ s, 10 ms): the host's CPU share needs at least one between
            // readings, which 50 ms of wall time always gives, whatever the load (a reading sooner repeats the last one)
            Thread.sleep(50);
            TelemetryRecorder recorder = new TelemetryRecorder(store, "f", "d", Duration.ofSeconds(1), 100, clock,
                    () -> Optional.of(probe.read()), Duration.ofSeconds(60));
            recorder.record(new Observation("m", "1", 2, false, OptionalDouble.empty(), false, false, false, Map.of()));
            clock.advance(Duration.ofSeconds(1));
            assertThat(recorder.runOnce()).isPresent();
            TelemetryBatch b = last(store);
            assertThat(b.records()).hasSize(1);
            ResourceUsage r = b.resources().orElseThrow();
            if (Files.exists(Path.of("/proc/self/status"))) {
                assertThat(r.processRssBytes()).isGreaterThan(10L << 20);
                assertThat(r.hostMemoryAvailableBytes()).isPositive();
                assertThat(r.hostCpuRatio()).isBetween(0.0, 1.0);
            }
            assertThat(r.heapUsedBytes()).isPositive();
            assertThat(r.dataDiskFreeBytes()).isCloseTo(Files.getFileStore(dir).getUsableSpace(), org.assertj.core.api.Assertions.within(1L << 30));
            assertThat(r.processCpuRatio()).isBetween(0.0, 1.0);
            assertThat(r.accelerators()).isNotNull();
            // idle windows: nothing until a heartbeat has passed since the last batch, then resources alone
            for (int i = 0; i < 59; i++) {
                clock.advance(Duration.ofSeconds(1));
                assertThat(recorder.runOnce()).isEmpty();
            }
            clock.advance(Duration.ofSeconds(1));
            assertThat(recorder.runOnce()).isPresent();
            TelemetryBatch idle = last(store);
            assertThat(idle.records()).isEmpty();
            assertThat(idle.resources()).isPresent();
            // and it survives the wire both ways, snake_case
            String json = new String(MessageCodec.json().encode(idle), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(json).contains("\"process_rss_bytes\"", "\"data_disk_free_bytes\"", "\"accelerators\":[");
            assertThat(MessageCodec.json().decode(json.getBytes(), TelemetryBatch.class)).isEqualTo(idle);
            assertThat(store.outboxSize()).isEqualTo(2);
        }
    }
}
