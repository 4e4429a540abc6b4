package io.edgefleet.cloud.ab;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.lease.Leadership;
import io.edgefleet.cloud.rollout.RolloutEngine;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Fence;
import io.edgefleet.cloud.store.Jdbc;
import io.edgefleet.cloud.store.Stores;
import io.edgefleet.testkit.PostgresExtension;
import io.edgefleet.protocols.messages.AckError;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tracking and re-sending of A/B split commands on both real stores (SQLite, PostgreSQL; migration V16), stepped with a clock that
 * moves only when told: what is sent when, which acknowledgements count, what a stop cancels. The broker is a list of
 * what was handed to it (the MQTT side is {@code CandidatesKeptTest}'s).
 */
class SplitCommandsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    CloudStore store;
    final Instant t0 = Instant.parse("2026-11-30T12:00:00Z");
    Instant now = t0;
    final Clock clock = new Clock() {
        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    };
    long token = 7;
    boolean leading = true;
    boolean brokerUp = true;
    final List<Command> handed = new ArrayList<>();
    SplitCommands commands;
    final MessageCodec json = MessageCodec.json();

    /** One migrated store per kind for the class (a migration costs seconds), emptied before each test. */
    static final Map<Stores, CloudStore> STORES = new java.util.EnumMap<>(Stores.class);
    @TempDir
    static Path storeDir;

    void setUp(Stores kind) {
        store = STORES.computeIfAbsent(kind, k -> k.open(storeDir.resolve(k.name()), PG));
        store.tx(c -> {
            try (var s = c.createStatement()) {
                s.execute("DELETE FROM ab_commands");
                s.execute("DELETE FROM ab_experiments");
            }
            return null;
        });
        Leadership leadership = new Leadership() {
            @Override
            public boolean isLeader() {
                return leading;
            }

            @Override
            public OptionalLong token() {
                return OptionalLong.of(token);
            }

            @Override
            public Fence fence() {
                return Fence.NONE;
            }
        };
        RolloutEngine.CommandSender sender = (f, d, bytes) -> {
            if (brokerUp) {
                handed.add(json.decode(bytes, Command.class));
            }
            return brokerUp;
        };
        commands = new SplitCommands(store, sender, leadership, clock);
        experiment("ab-1", Experiment.RUNNING);
        track("ab-1", "start", "f/d-1", "f/d-2");
    }

    @org.junit.jupiter.api.AfterAll
    static void closeStores() {
        STORES.values().forEach(CloudStore::close);
    }

    void experiment(String id, String state) {
        store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO ab_experiments (id, model, version_a, version_b, share, split_by, devices, "
                    + "state, created_at) VALUES (?, 'clf', '1', '2', 0.5, 'share', 'f/d-1,f/d-2', ?, ?)")) {
                return Jdbc.bind(p, id, state, now).executeUpdate();
            }
        });
    }

    void track(String id, String kind, String... devices) {
        Map<String, Command> m = new LinkedHashMap<>();
        for (String d : devices) {
            String[] fd = d.split("/");
            m.put(d, Command.split(id + "-" + kind + "-" + fd[0] + "-" + fd[1], id, "clf", "2", 0.5, "share", kind.equals("stop"), now));
        }
        store.tx(c -> {
            commands.track(c, id, kind, m);
            return null;
        });
    }

    SplitCommands.Tracked row(String commandId) {
        return commands.of("ab-1").stream().filter(t -> t.commandId().equals(commandId)).findFirst().orElseThrow();
    }

    int ack(String commandId, String device, AckPhase phase, long ackToken) {
        Command c = Command.split(commandId, "ab-1", "clf", "2", 0.5, "share", false, now).withFencingToken(ackToken);
        CommandAck a = phase == AckPhase.FAILED ? CommandAck.failed(c, device, new AckError("activation-failed", "does not load"), now)
                : CommandAck.of(c, device, phase, now);
        return commands.acknowledge(List.of(new RolloutEngine.FleetAck(Optional.of("f"), a)));
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void pending_commands_go_at_once_with_the_leaders_token_and_unacknowledged_ones_again_with_doubling_backoff(Stores kind) {
        setUp(kind);
        assertThat(commands.runOnce(Optional.empty())).isEqualTo(2);
        assertThat(handed).extracting(c -> c.fencingToken().getAsLong()).containsOnly(7L);
        assertThat(commands.runOnce(Optional.empty())).as("nothing due before the backoff").isZero();
        now = t0.plusSeconds(5);
        token = 8; // a new leader's token on the re-send
        assertThat(commands.runOnce(Optional.empty())).isEqualTo(2);
        assertThat(handed.getLast().fencingToken()).hasValue(8);
        assertThat(row("ab-1-start-f-d-1").attempts()).isEqualTo(2);
        assertThat(row("ab-1-start-f-d-1").nextSendAt()).isEqualTo(now.plusSeconds(10));
        assertThat(commands.backoff(3)).isEqualTo(Duration.ofSeconds(20));
        assertThat(commands.backoff(40)).as("capped").isEqualTo(Duration.ofMinutes(5));
        leading = false;
        now = now.plusSeconds(60);
        assertThat(commands.runOnce(Optional.empty())).as("a replica that does not lead sends nothing").isZero();
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void any_acknowledgement_ends_the_resending_and_the_api_says_how_far_each_device_got(Stores kind) {
        setUp(kind);
        commands.runOnce(Optional.empty());
        assertThat(ack("ab-1-start-f-d-1", "d-1", AckPhase.RECEIVED, 7)).isEqualTo(1);
        assertThat(ack("ab-1-start-f-d-1", "d-1", AckPhase.ACTIVATED, 7)).isEqualTo(1);
        assertThat(ack("ab-1-start-f-d-1", "d-1", AckPhase.VERIFIED, 7)).as("a late intermediate ack changes nothing").isZero();
        now = t0.plusSeconds(60);
        handed.clear();
        commands.runOnce(Optional.empty());
        assertThat(handed).extracting(Command::commandId).containsExactly("ab-1-start-f-d-2");
        SplitCommands.Tracked d1 = row("ab-1-start-f-d-1");
        assertThat(d1.state()).isEqualTo(SplitCommands.ACKED);
        assertThat(d1.phase()).contains("activated");
        assertThat(d1.json()).containsEntry("state", "acked").containsEntry("phase", "activated").doesNotContainKey("nextSendAt");
        Experiment e = new Experiment("ab-1", "clf", "1", "2", 0.5, "share", List.of("f/d-1", "f/d-2"), Experiment.RUNNING, t0, Optional.empty());
        assertThat(AbRoutes.delivery(e, commands.of("ab-1"))).containsEntry("notRunning", List.of("f/d-2"));
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void acks_from_another_device_stale_refusals_and_acks_of_an_older_token_are_not_applied(Stores kind) {
        setUp(kind);
        commands.runOnce(Optional.empty());
        now = t0.plusSeconds(5);
        token = 9;
        commands.runOnce(Optional.empty()); // sent again under token 9
        assertThat(ack("ab-1-start-f-d-1", "d-2", AckPhase.ACTIVATED, 9)).as("d-2 cannot settle d-1's command").isZero();
        assertThat(ack("ab-1-start-f-d-1", "d-1", AckPhase.ACTIVATED, 7)).as("answers the send of an older token").isZero();
        Command c = Command.split("ab-1-start-f-d-1", "ab-1", "clf", "2", 0.5, "share", false, now).withFencingToken(9);
        CommandAck stale = CommandAck.failed(c, "d-1", new AckError(Command.STALE_CODE, "refused as stale"), now);
        assertThat(commands.acknowledge(List.of(new RolloutEngine.FleetAck(Optional.of("f"), stale)))).isZero();
        assertThat(row("ab-1-start-f-d-1").state()).isEqualTo(SplitCommands.SENT);
        assertThat(ack("ab-1-start-f-d-1", "d-1", AckPhase.FAILED, 9)).isEqualTo(1);
        assertThat(row("ab-1-start-f-d-1").error()).contains("activation-failed: does not load");
        assertThat(ack("ab-1-start-f-d-1", "d-1", AckPhase.ACTIVATED, 9)).as("failed is final").isZero();
        assertThat(commands.acknowledge(List.of(new RolloutEngine.FleetAck(Optional.of("f"),
                CommandAck.of(Command.rollback("ro-1-r", "ro-1", "clf", now), "d-1", AckPhase.ROLLED_BACK, now))))).as("not a split command").isZero();
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void a_stopped_experiments_start_is_not_sent_again_and_its_stop_is_until_acknowledged(Stores kind) {
        setUp(kind);
        brokerUp = false;
        assertThat(commands.runOnce(Optional.empty())).isZero();
        assertThat(row("ab-1-start-f-d-1").state()).as("not handed to the broker").isEqualTo(SplitCommands.PENDING);
        store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE ab_experiments SET state = 'stopped' WHERE id = 'ab-1'")) {
                p.executeUpdate();
            }
            commands.cancelStarts(c, "ab-1");
            return null;
        });
        track("ab-1", "stop", "f/d-1", "f/d-2");
        brokerUp = true;
        now = t0.plusSeconds(600);
        assertThat(commands.runOnce(Optional.empty())).isEqualTo(2);
        assertThat(handed).extracting(Command::commandId).containsExactlyInAnyOrder("ab-1-stop-f-d-1", "ab-1-stop-f-d-2");
        assertThat(row("ab-1-start-f-d-1").state()).isEqualTo(SplitCommands.CANCELLED);
        ack("ab-1-stop-f-d-1", "d-1", AckPhase.ACTIVATED, 7);
        handed.clear();
        commands.dueNow("ab-1"); // an operator's second stop
        commands.runOnce(Optional.of("ab-1"));
        assertThat(handed).extracting(Command::commandId).containsExactly("ab-1-stop-f-d-2");
    }
}
