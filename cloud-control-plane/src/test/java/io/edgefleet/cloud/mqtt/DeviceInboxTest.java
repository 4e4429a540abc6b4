package io.edgefleet.cloud.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.fleet.DeviceRecord;
import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.fleet.StateListener;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.DeviceRepository;
import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.transport.mqtt.Delivery;
import io.edgefleet.transport.mqtt.Metadata;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane's batches of device states against a real SQLite file whose {@code devices} table a trigger
 * makes refuse inserts while the test says so: a message is acknowledged to the broker only once its transaction
 * committed, one the database refuses is tried again (and applied once the database takes it), and a message the
 * database always refuses is dropped after {@link DeviceInbox#MAX_ATTEMPTS} tries without holding the others back.
 */
class DeviceInboxTest {
    @TempDir
    Path dir;
    CloudStore db;
    FleetRegistry fleet;
    DeviceInbox inbox;
    final Set<String> acked = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void open() {
        db = CloudStore.open(dir);
        db.tx(c -> {
            c.createStatement().execute("CREATE TABLE refuse (device TEXT)");
            c.createStatement().execute("CREATE TRIGGER refuse_devices BEFORE INSERT ON devices WHEN EXISTS (SELECT 1 FROM refuse "
                    + "WHERE device = '*' OR device = NEW.device) BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
            return null;
        });
        fleet = new FleetRegistry(new DeviceRepository(db), new EventRepository(db, Clock.systemUTC()), Duration.ofMinutes(5), Clock.systemUTC());
        inbox = new DeviceInbox(new StateListener(fleet), fleet, null, null, 16, 4, 10);
    }

    @AfterEach
    void close() {
        inbox.close();
        db.close();
    }

    private void refuse(String device) {
        db.tx(c -> c.createStatement().executeUpdate("INSERT INTO refuse (device) VALUES ('" + device + "')"));
    }

    private void offer(String device) {
        String topic = Topic.state("f", device).value();
        byte[] payload = MessageCodec.json().encode(new DeviceState("f", device, true, "0.1", "rpi4", Instant.now(), List.of()));
        inbox.offer(new Delivery(topic, Optional.of(Topic.parse(topic)), payload, Metadata.qos1()), () -> acked.add(device), true);
    }

    private Set<String> stored() {
        return fleet.all().stream().map(DeviceRecord::device).collect(Collectors.toSet());
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(until);
            Thread.sleep(10);
        }
    }

    @Test
    void a_state_is_acknowledged_only_after_its_commit_and_tried_again_while_the_database_refuses() throws Exception {
        refuse("*");
        offer("d1");
        offer("d2");
        await("tried three times", () -> inbox.batches() >= 3);
        assertThat(acked).as("nothing acknowledged while nothing is stored").isEmpty();
        assertThat(stored()).isEmpty();

        db.tx(c -> c.createStatement().executeUpdate("DELETE FROM refuse"));
        await("both applied", () -> acked.size() == 2);
        assertThat(stored()).containsExactlyInAnyOrder("d1", "d2");
        assertThat(inbox.statesApplied()).isEqualTo(2);
    }

    @Test
    void a_state_the_database_always_refuses_is_dropped_after_its_tries_and_holds_no_other_back() throws Exception {
        refuse("poison");
        offer("good-1");
        offer("poison");
        offer("good-2");
        await("the good ones applied", () -> acked.containsAll(Set.of("good-1", "good-2")));
        assertThat(stored()).containsExactlyInAnyOrder("good-1", "good-2");
        assertThat(acked).doesNotContain("poison");
        await("the poison dropped and acknowledged", () -> acked.contains("poison"));
        assertThat(stored()).doesNotContain("poison");
        assertThat(inbox.batches()).as("one batch per try at least").isGreaterThanOrEqualTo(DeviceInbox.MAX_ATTEMPTS);
        offer("good-3");
        await("the inbox still applies", () -> acked.contains("good-3"));
        assertThat(stored()).contains("good-3");
    }
}
