package io.edgefleet.cloud.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.lease.Leadership;
import io.edgefleet.cloud.rollout.RolloutStore.DeviceRow;
import io.edgefleet.cloud.rollout.RolloutStore.RolloutRow;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.DeviceRepository;
import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.cloud.store.Fence;
import io.edgefleet.cloud.store.TelemetryRepository;
import io.edgefleet.protocols.messages.AckError;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.ModelState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rollout engine stepped by hand: {@code tick()} and {@code onAck()} under a clock the test
 * moves, against a real SQLite file (the store, the fleet and the telemetry are the production
 * classes). Only the MQTT side is replaced: commands are recorded, acknowledgements are made from
 * them. No sleeps, no background thread.
 */
class RolloutEngineTest {
    static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");

    @TempDir
    Path dir;
    CloudStore db;
    RolloutStore store;
    FleetRegistry fleet;
    EventRepository events;
    TelemetryRepository telemetry;
    final MutableClock clock = new MutableClock(T0);
    final List<Command> sent = new ArrayList<>();
    final List<String> sentTo = new ArrayList<>();
    final MessageCodec json = MessageCodec.json();
    final TestLeadership leadership = new TestLeadership();
    RolloutEngine engine;

    /** A clock that moves only when told. */
    static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    /** Leads under a fencing token the test sets. */
    static final class TestLeadership implements Leadership {
        long token = 7;

        @Override
        public boolean isLeader() {
            return true;
        }

        @Override
        public OptionalLong token() {
            return OptionalLong.of(token);
        }

        @Override
        public Fence fence() {
            return Fence.NONE;
        }
    }

    @BeforeEach
    void open() {
        db = CloudStore.open(dir);
        store = new RolloutStore(db);
        events = new EventRepository(db, clock);
        fleet = new FleetRegistry(new DeviceRepository(db), events, Duration.ofMinutes(5), clock);
        telemetry = new TelemetryRepository(db, Duration.ofSeconds(10));
        engine = new RolloutEngine(store, null, fleet, telemetry, events, (f, d, bytes) -> {
            sent.add(json.decode(bytes, Command.class));
            sentTo.add(f + "/" + d);
            return true;
        }, clock, leadership);
    }

    @AfterEach
    void close() {
        engine.close();
        db.close();
    }

    /**
     * {@code n} online devices of fleet {@code f1} running version 1 of {@code kws}: the first through the state path an agent's
     * state message takes, the rest as the same row in one transaction (a state message per device commits one each).
     */
    void devices(int n) {
        new DeviceRepository(db).applyState(new io.edgefleet.protocols.messages.DeviceState("f1", "d00000", true, "0.1", "rpi4", clock.instant(),
                List.of(ModelState.active("kws", "1"))), clock.instant());
        db.tx(c -> {
            if (n == 1) {
                return null;
            }
            try (var copy = c.prepareStatement("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?) "
                    + "INSERT INTO devices (fleet, device, profile, agent_version, models, online, state_at, status_changed_at, last_seen, "
                    + "registered_at, runtimes) SELECT d.fleet, printf('d%05d', k.i), d.profile, d.agent_version, d.models, d.online, d.state_at, "
                    + "d.status_changed_at, d.last_seen, d.registered_at, d.runtimes FROM k, devices d WHERE d.fleet = 'f1' AND d.device = 'd00000'")) {
                copy.setInt(1, n - 1);
                copy.executeUpdate();
            }
            return null;
        });
        assertThat(fleet.all()).hasSize(n).allSatisfy(d -> assertThat(d.activeVersion("kws")).contains("1"));
    }

    /** A running rollout of kws 2 to fleet f1 ({@code extra}: more spec fields); install and stale gates only, so no telemetry is needed. */
    String rollout(String waves, String extra) throws Exception {
        String spec = "{\"model\": \"kws\", \"version\": \"2\", \"selector\": \"fleet=f1\", \"waves\": " + waves
                + ", \"gates\": {\"maxInstallFailures\": 0, \"maxStale\": 1000000}" + extra + "}";
        ObjectMapper m = io.edgefleet.protocols.Json.jsonMapper(io.edgefleet.protocols.DecodeLimits.DEFAULT);
        RolloutSpec s = RolloutSpec.read(m, m.readTree(spec));
        String id = "ro-test" + System.nanoTime() % 1000;
        store.create(id, s, "test", clock.instant());
        return id;
    }

    RolloutRow row(String id) {
        return store.get(id).orElseThrow();
    }

    Map<String, DeviceState> states(String id) {
        return store.devices(id).stream().collect(Collectors.toMap(DeviceRow::device, DeviceRow::state));
    }

    Command last(String device) {
        for (int i = sent.size() - 1; i >= 0; i--) {
            if (sentTo.get(i).equals("f1/" + device)) {
                return sent.get(i);
            }
        }
        throw new AssertionError("no command sent to " + device);
    }

    void ack(String device, AckPhase phase) {
        engine.onAck(CommandAck.of(last(device), device, phase, clock.instant()));
    }

    @Test
    void waves_advance_when_the_devices_of_a_wave_acknowledge_their_activation() throws Exception {
        devices(4);
        String id = rollout("[{\"count\": 1}, {\"percent\": 100}]", "");
        engine.tick();
        assertThat(sent).as("only the first wave is commanded").hasSize(1);
        String first = sentTo.get(0).substring(3);
        assertThat(sent.get(0).commandId()).isEqualTo(Intent.DEPLOY.commandId(id, "f1/" + first));
        assertThat(sent.get(0).fencingToken()).as("commands carry the leader's fencing token").hasValue(7);
        engine.tick();
        assertThat(sent).as("nothing more until the wave's device answers").hasSize(1);
        assertThat(row(id).wave()).isZero();

        ack(first, AckPhase.DOWNLOADING);
        engine.tick();
        assertThat(states(id)).containsEntry(first, DeviceState.DOWNLOADING);
        ack(first, AckPhase.ACTIVATED);
        engine.tick(); // applies the activation: the wave is installed, the bake (0) is over, the gates pass: wave 2
        assertThat(row(id).wave()).isEqualTo(1);
        engine.tick();
        assertThat(sent).as("the rest commanded in wave 2").hasSize(4);
        for (String d : List.of("d00000", "d00001", "d00002", "d00003")) {
            if (!d.equals(first)) {
                ack(d, AckPhase.ACTIVATED);
            }
        }
        engine.tick();
        assertThat(row(id).state()).isEqualTo(RolloutState.SUCCEEDED);
        assertThat(states(id).values()).containsOnly(DeviceState.ACTIVATED);
        assertThat(store.logs(id)).extracting(RolloutStore.LogRow::kind).containsSubsequence("created", "wave-started", "wave-installed",
                "gate-passed", "wave-advanced", "wave-started", "wave-installed", "gate-passed", "succeeded");
    }

    /**
     * Command ids are predictable (rollout id and a hash of the device): an ack from another device, or from the right
     * device name on another fleet's topic, is refused (an attack had one device activate another's install and
     * another roll a whole rollout back with a forged "failed").
     */
    @Test
    void a_device_cannot_settle_another_devices_command() throws Exception {
        devices(2);
        String id = rollout("[{\"percent\": 100}]", "");
        engine.tick();
        Command forD1 = last("d00001");
        // d00000 acknowledges d00001's command, as failed and as activated: neither is applied
        engine.onAck(CommandAck.failed(forD1, "d00000", new AckError("load-failed", "forged"), clock.instant()));
        engine.onAck("f1", CommandAck.of(forD1, "d00000", AckPhase.ACTIVATED, clock.instant()));
        // d00001's own name on another fleet's topic: refused too
        engine.onAck("f2", CommandAck.of(forD1, "d00001", AckPhase.ACTIVATED, clock.instant()));
        engine.tick();
        assertThat(row(id).state()).as("no forged failure rolled the rollout back").isEqualTo(RolloutState.RUNNING);
        assertThat(states(id)).containsEntry("d00001", DeviceState.COMMANDED);
        // the device itself, on its own fleet's topic, settles it
        engine.onAck("f1", CommandAck.of(forD1, "d00001", AckPhase.ACTIVATED, clock.instant()));
        engine.tick();
        assertThat(states(id)).containsEntry("d00001", DeviceState.ACTIVATED);
    }

    /** An abort stops a rollout where it is, but a shadow candidate answers no one: its devices get it unloaded (issue 20). */
    @Test
    void an_abort_unloads_the_shadow_candidates_and_leaves_updated_devices_as_they_are() throws Exception {
        devices(3);
        String id = rollout("[{\"count\": 2, \"mode\": \"shadow\"}, {\"percent\": 100}]", ", \"shadowGates\": {\"minSamples\": 1000000}");
        engine.tick();
        assertThat(sent).hasSize(2).allSatisfy(c -> assertThat(c.type()).isEqualTo(io.edgefleet.protocols.messages.CommandType.SHADOW));
        String shadowing = sentTo.get(0).substring(3);
        String loading = sentTo.get(1).substring(3);
        ack(shadowing, AckPhase.SHADOWING);
        engine.tick();
        assertThat(states(id)).containsEntry(shadowing, DeviceState.SHADOWING).containsEntry(loading, DeviceState.COMMANDED);
        sent.clear();
        sentTo.clear();

        engine.operate(id, "abort", "alice", "wrong candidate");
        assertThat(row(id).state()).isEqualTo(RolloutState.ABORTED);
        assertThat(sentTo).as("the shadowing device and the one still loading it").containsExactlyInAnyOrder("f1/" + shadowing, "f1/" + loading);
        assertThat(sent).allSatisfy(c -> {
            assertThat(c.type()).isEqualTo(io.edgefleet.protocols.messages.CommandType.ROLLBACK);
            assertThat(c.version()).as("back to the version it runs: nothing but the candidate changes").contains("1");
            assertThat(c.fencingToken()).hasValue(7);
        });
        assertThat(states(id)).containsEntry(shadowing, DeviceState.ROLLING_BACK).containsEntry(loading, DeviceState.ROLLING_BACK)
                .containsValue(DeviceState.PENDING);
        ack(shadowing, AckPhase.ROLLED_BACK);
        engine.tick();
        assertThat(states(id)).containsEntry(shadowing, DeviceState.ROLLED_BACK);
        assertThat(row(id).state()).isEqualTo(RolloutState.ABORTED);

        // a normal rollout's abort still leaves its devices as they are
        sent.clear();
        String normal = rollout("[{\"percent\": 100}]", "");
        engine.tick();
        int commanded = sent.size();
        engine.operate(normal, "abort", "alice", "enough");
        assertThat(sent).as("nothing sent by a normal rollout's abort").hasSize(commanded);
    }

    @Test
    void a_wave_bakes_for_its_bake_time_on_the_engines_clock_before_the_next_one_starts() throws Exception {
        devices(3);
        String id = rollout("[{\"count\": 1, \"bake\": \"10m\"}, {\"percent\": 100}]", "");
        engine.tick();
        ack(sentTo.get(0).substring(3), AckPhase.ACTIVATED);
        engine.tick();
        Instant installed = row(id).waveDoneAt().orElseThrow();
        assertThat(installed).isEqualTo(T0);
        clock.advance(Duration.ofMinutes(10).minusMillis(1));
        engine.tick();
        assertThat(row(id).wave()).as("1 ms of bake left").isZero();
        assertThat(sent).hasSize(1);
        clock.advance(Duration.ofMillis(1));
        engine.tick();
        assertThat(row(id).wave()).as("baked").isEqualTo(1);
        engine.tick();
        assertThat(sent).hasSize(3);
    }

    @Test
    void a_failed_install_fails_the_gate_and_rolls_back_the_devices_that_took_the_new_version() throws Exception {
        devices(3);
        String id = rollout("[{\"percent\": 100}]", "");
        engine.tick();
        assertThat(sent).hasSize(3);
        ack("d00000", AckPhase.ACTIVATED);
        engine.onAck(CommandAck.failed(last("d00001"), "d00001", new AckError("load-failed", "model does not load"), clock.instant()));
        engine.tick();
        RolloutRow r = row(id);
        assertThat(r.state()).isEqualTo(RolloutState.ROLLED_BACK);
        assertThat(r.reason()).get().asString().contains("f1/d00001").contains("model does not load");
        Map<String, DeviceState> s = states(id);
        assertThat(s).containsEntry("d00000", DeviceState.ROLLING_BACK).containsEntry("d00001", DeviceState.FAILED)
                .containsEntry("d00002", DeviceState.ROLLING_BACK);
        Command back = last("d00000");
        assertThat(back.commandId()).isEqualTo(Intent.ROLLBACK.commandId(id, "f1/d00000"));
        ack("d00000", AckPhase.ROLLED_BACK);
        Command deploy = sent.get(sentTo.indexOf("f1/d00002"));
        assertThat(Intent.of(deploy.commandId())).isEqualTo(Intent.DEPLOY);
        engine.onAck(CommandAck.of(deploy, "d00002", AckPhase.ACTIVATED, clock.instant())); // a late deploy ack after the rollback: must not undo it
        engine.tick();
        assertThat(states(id)).containsEntry("d00000", DeviceState.ROLLED_BACK).containsEntry("d00002", DeviceState.ROLLING_BACK);
        assertThat(row(id).state()).as("a rolled-back rollout is not ticked again").isEqualTo(RolloutState.ROLLED_BACK);
    }

    @Test
    void a_device_that_never_acknowledges_is_retried_then_times_out() throws Exception {
        devices(2);
        String id = rollout("[{\"percent\": 100}]", ", \"commandTimeout\": \"1m\", \"retries\": 1, \"onFailure\": \"pause\"");
        engine.tick();
        ack("d00000", AckPhase.ACTIVATED);
        engine.tick();
        clock.advance(Duration.ofSeconds(59));
        engine.tick();
        assertThat(sent).as("not yet due").hasSize(2);
        clock.advance(Duration.ofSeconds(1));
        engine.tick();
        assertThat(sent).as("the same command again").hasSize(3);
        assertThat(last("d00001").commandId()).isEqualTo(Intent.DEPLOY.commandId(id, "f1/d00001"));
        assertThat(sentTo).filteredOn("f1/d00001"::equals).hasSize(2);
        assertThat(store.devices(id)).filteredOn(d -> d.device().equals("d00001")).singleElement()
                .satisfies(d -> assertThat(d.attempts()).isEqualTo(2));
        clock.advance(Duration.ofMinutes(1));
        engine.tick();
        DeviceRow late = store.devices(id).stream().filter(d -> d.device().equals("d00001")).findFirst().orElseThrow();
        assertThat(late.state()).isEqualTo(DeviceState.TIMED_OUT);
        assertThat(late.error()).get().asString().contains("no activation within PT1M after 2 attempt(s)");
        assertThat(row(id).state()).as("a timed-out install fails maxInstallFailures 0; onFailure: pause").isEqualTo(RolloutState.PAUSED);
    }

    @Test
    void an_acknowledgement_of_a_command_under_an_older_fencing_token_is_ignored() throws Exception {
        devices(1);
        String id = rollout("[{\"percent\": 100}]", "");
        engine.tick();
        Command c = last("d00000");
        assertThat(c.fencingToken()).hasValue(7);
        engine.onAck(new CommandAck(CommandAck.SCHEMA_VERSION, c.commandId(), Optional.of(id), "d00000", AckPhase.ACTIVATED,
                OptionalDouble.empty(), Optional.empty(), clock.instant(), OptionalLong.of(6)));
        engine.tick();
        assertThat(states(id)).containsEntry("d00000", DeviceState.COMMANDED);
        assertThat(row(id).state()).isEqualTo(RolloutState.RUNNING);
        engine.onAck(CommandAck.of(c, "d00000", AckPhase.ACTIVATED, clock.instant())); // token 7: the current command's
        engine.tick();
        assertThat(row(id).state()).isEqualTo(RolloutState.SUCCEEDED);
    }

    @Test
    void a_paused_rollout_commands_nothing_until_resumed() throws Exception {
        devices(3);
        String id = rollout("[{\"count\": 1}, {\"percent\": 100}]", "");
        engine.tick();
        engine.operate(id, "pause", "alice", "looking at dashboards");
        assertThat(row(id).state()).isEqualTo(RolloutState.PAUSED);
        assertThat(row(id).reason()).contains("looking at dashboards");
        ack(sentTo.get(0).substring(3), AckPhase.ACTIVATED);
        engine.tick();
        engine.tick();
        assertThat(row(id).wave()).as("a paused rollout does not advance").isZero();
        assertThat(sent).hasSize(1);
        assertThat(states(id)).as("its acknowledgements are still recorded").containsValue(DeviceState.ACTIVATED);
        assertThatThrownBy(() -> engine.operate(id, "pause", "alice", "again")).isInstanceOf(RolloutException.Conflict.class)
                .hasMessage("cannot pause rollout " + id + ": it is paused");
        engine.operate(id, "resume", "alice", "fine");
        engine.tick();
        engine.tick();
        assertThat(sent).hasSize(3);
        assertThat(store.logs(id)).extracting(RolloutStore.LogRow::kind).contains("paused", "resumed");
    }

    @Test
    void an_unknown_rollout_is_not_found() {
        assertThatThrownBy(() -> engine.operate("ro-none", "pause", "alice", "")).isInstanceOf(RolloutException.NotFound.class)
                .hasMessage("no rollout ro-none");
    }

    @Test
    void a_tick_reads_the_rollout_device_rows_that_changed_not_the_fleet() throws Exception {
        int n = 2_000;
        devices(n);
        String id = rollout("[{\"percent\": 100}]", "");
        long before = store.deviceRowsRead();
        engine.tick(); // the first tick of a rollout reads it whole, then only its own writes
        assertThat(sent).hasSize(n);
        long first = store.deviceRowsRead() - before;
        assertThat(first).as("joined and commanded: each row read back once after its write").isGreaterThanOrEqualTo(n);
        long quiet = store.deviceRowsRead();
        engine.tick();
        assertThat(store.deviceRowsRead() - quiet).as("a tick where nothing changed reads no device row").isZero();
        for (int i = 0; i < 5; i++) {
            ack(String.format("d%05d", i), AckPhase.ACTIVATED);
        }
        long acked = store.deviceRowsRead();
        engine.tick();
        long read = store.deviceRowsRead() - acked;
        // 5 rows found by their command ids, and the same 5 read back after their writes
        assertThat(read).as("device rows read by a tick with 5 changed devices of " + n).isEqualTo(10);
        assertThat(store.deviceCounts(id)).containsEntry(DeviceState.ACTIVATED, 5L).containsEntry(DeviceState.COMMANDED, (long) n - 5);
        assertThat(engine.snapshot(id).orElseThrow().waves().get(0)).containsEntry("activated", 5L);
    }

    @Test
    void an_ack_that_arrives_before_the_leader_recorded_its_command_records_it_and_the_leaders_write_leaves_it() throws Exception {
        devices(3);
        // the device answers at once: inside the send, before the tick writes "commanded" (as a follower or the inbox may)
        engine.close();
        engine = new RolloutEngine(store, null, fleet, telemetry, events, (f, d, bytes) -> {
            Command c = json.decode(bytes, Command.class);
            sent.add(c);
            sentTo.add(f + "/" + d);
            if (d.equals("d00001")) {
                assertThat(engine.acknowledge(List.of(new RolloutEngine.FleetAck(Optional.of(f), CommandAck.of(c, d, AckPhase.ACTIVATED,
                        clock.instant()))))).as("applied before the command was recorded").isEqualTo(1);
            }
            return true;
        }, clock, leadership);
        String id = rollout("[{\"percent\": 100}]", "");
        engine.tick();
        Map<String, DeviceRow> rows = store.devices(id).stream().collect(Collectors.toMap(DeviceRow::device, d -> d));
        assertThat(rows.get("d00001").state()).as("the leader's 'commanded' did not overwrite the ack").isEqualTo(DeviceState.ACTIVATED);
        assertThat(rows.get("d00001").commandId()).contains(last("d00001").commandId());
        assertThat(rows.get("d00001").commandToken()).hasValue(7);
        assertThat(rows.get("d00000").state()).isEqualTo(DeviceState.COMMANDED);
        // a forged ack (another device's id from this one) still settles nothing, recorded command or not
        Command forD2 = last("d00002");
        assertThat(engine.acknowledge(List.of(new RolloutEngine.FleetAck(Optional.of("f1"), CommandAck.failed(forD2, "d00000",
                new AckError("load-failed", "forged"), clock.instant()))))).isZero();
        assertThat(states(id)).containsEntry("d00002", DeviceState.COMMANDED).containsEntry("d00000", DeviceState.COMMANDED);
        ack("d00000", AckPhase.ACTIVATED);
        ack("d00002", AckPhase.ACTIVATED);
        engine.tick();
        engine.tick();
        assertThat(row(id).state()).isEqualTo(RolloutState.SUCCEEDED);
        assertThat(sent).as("one command per device, none sent again").hasSize(3);
    }

    @Test
    void an_ack_applied_by_another_replica_reaches_the_leaders_incremental_tick() throws Exception {
        devices(4);
        String id = rollout("[{\"percent\": 100}]", "");
        engine.tick();
        engine.tick(); // the leader's view is now current: a quiet tick reads nothing
        // a follower: its own engine on the same database, not leading, applying acks it received
        RolloutEngine follower = new RolloutEngine(new RolloutStore(db), null, fleet, telemetry, events, (f, d, b) -> {
            throw new AssertionError("a follower sends no command");
        }, clock, new Leadership() {
            @Override
            public boolean isLeader() {
                return false;
            }

            @Override
            public OptionalLong token() {
                return OptionalLong.empty();
            }

            @Override
            public Fence fence() {
                return Fence.NONE;
            }
        });
        try {
            List<RolloutEngine.FleetAck> acks = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String d = String.format("d%05d", i);
                acks.add(new RolloutEngine.FleetAck(Optional.of("f1"), CommandAck.of(last(d), d, AckPhase.ACTIVATED, clock.instant())));
            }
            assertThat(follower.acknowledge(acks)).isEqualTo(4);
            follower.tick(); // not leading: nothing else
        } finally {
            follower.close();
        }
        long before = store.deviceRowsRead();
        engine.tick();
        assertThat(store.deviceRowsRead() - before).as("the leader read the 4 changed rows, not the rollout").isEqualTo(4);
        engine.tick();
        assertThat(row(id).state()).isEqualTo(RolloutState.SUCCEEDED);
    }
}
