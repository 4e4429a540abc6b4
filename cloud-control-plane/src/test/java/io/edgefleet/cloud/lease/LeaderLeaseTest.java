package io.edgefleet.cloud.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.DatabaseSettings;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader lease of control-plane replicas on a real PostgreSQL server (issue 18): two replicas, each
 * with its own store (its own pool, as two processes) and its own monotonic clock that the test steps, so
 * the replica-side deadline is deterministic; the lease's expiry is on the database's clock, so the only
 * real waiting is for a 1 s lease to run out.
 */
class LeaderLeaseTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    static final LeaseSettings FAST = new LeaseSettings(Duration.ofMillis(1000), Duration.ofMillis(600), Duration.ofMillis(100));

    @TempDir
    static Path dir;
    static CloudStore storeA;
    static CloudStore storeB;
    /** Each case its own lease name on the class's database: no state carries over, no database made per case. */
    static final AtomicLong cases = new AtomicLong();
    final AtomicLong clockA = new AtomicLong();
    final AtomicLong clockB = new AtomicLong();
    LeaderLease a;
    LeaderLease b;
    String lease;

    @BeforeAll
    static void openStores() {
        PostgresExtension.Database db = PG.newDatabase();
        DatabaseSettings s = DatabaseSettings.postgresql(db.jdbcUrl(), db.user(), Optional.empty()).withPoolSize(2);
        storeA = CloudStore.open(dir.resolve("a"), s);
        storeB = CloudStore.open(dir.resolve("b"), s); // a second pool, as a second process has
    }

    @AfterAll
    static void closeStores() {
        storeB.close();
        storeA.close();
    }

    @BeforeEach
    void open() {
        lease = "control-plane-" + cases.incrementAndGet();
        a = new LeaderLease(storeA, lease, "a", FAST, clockA::get);
        b = new LeaderLease(storeB, lease, "b", FAST, clockB::get);
    }

    @AfterEach
    void close() {
        b.close();
        a.close();
    }

    /** Waits on the database's clock until the lease row has expired, as a follower sees it. */
    private static void awaitExpiry(LeaderLease follower) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        follower.runOnce();
        while (follower.observed().expiresInMillis() >= 0 && !follower.isLeader()) {
            assertThat(System.nanoTime()).as("the lease expires").isLessThan(deadline);
            Thread.sleep(Math.max(10, follower.observed().expiresInMillis() + 5));
            follower.runOnce();
        }
    }

    /** A write that only the leader may commit: a row in a scratch table, fenced. */
    private static int fencedWrite(CloudStore store, LeaderLease lease, String what) {
        return store.tx(c -> {
            lease.fence().check(c);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO events (at, kind, subject, actor, detail) VALUES (1, ?, 's', 'test', '{}')")) {
                p.setString(1, what);
                return p.executeUpdate();
            }
        });
    }

    private static long events(CloudStore store, String kind) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM events WHERE kind = ?")) {
                p.setString(1, kind);
                var r = p.executeQuery();
                r.next();
                return r.getLong(1);
            }
        });
    }

    @Test
    void one_replica_leads_with_token_1_and_the_other_follows_naming_it() {
        a.runOnce();
        b.runOnce();
        assertThat(a.isLeader()).isTrue();
        assertThat(a.token()).hasValue(1);
        assertThat(b.isLeader()).isFalse();
        assertThat(b.token()).isEmpty();
        assertThat(b.observed().holder()).hasValue("a");
        assertThat(b.observed().token()).isEqualTo(1);
        // renewals keep it: the follower never gets in while the leader renews within the lease
        for (int i = 0; i < 5; i++) {
            clockA.addAndGet(Duration.ofMillis(100).toNanos());
            a.runOnce();
            b.runOnce();
        }
        assertThat(a.token()).hasValue(1);
        assertThat(b.isLeader()).isFalse();
    }

    @Test
    void a_leader_that_stops_renewing_is_replaced_with_the_next_token_after_the_lease_and_its_late_write_is_refused() throws Exception {
        a.runOnce();
        assertThat(a.token()).hasValue(1);
        assertThat(fencedWrite(storeA, a, "by-a-1")).isEqualTo(1);
        // a stops (a GC pause: its own clock does not move, so by that clock it still leads)
        b.runOnce();
        assertThat(b.isLeader()).as("not before the lease expired").isFalse();
        awaitExpiry(b);
        assertThat(b.isLeader()).isTrue();
        assertThat(b.token()).hasValue(2);
        assertThat(a.isLeader()).as("a paused replica still believes it leads").isTrue();
        // ... but the fencing token makes its late write fail, with nothing written
        assertThatThrownBy(() -> fencedWrite(storeA, a, "by-a-late")).isInstanceOf(LeaseLostException.class)
                .hasMessageContaining("holds fencing token 1 but lease " + lease + " is now token 2 of b");
        assertThat(events(storeA, "by-a-late")).isZero();
        assertThat(fencedWrite(storeB, b, "by-b")).isEqualTo(1);
        // when a runs again, its renewal fails and it follows
        clockA.addAndGet(Duration.ofMillis(100).toNanos());
        a.runOnce();
        assertThat(a.isLeader()).isFalse();
        assertThat(a.observed().holder()).hasValue("b");
    }

    @Test
    void a_leader_stops_acting_at_its_renew_deadline_even_when_it_cannot_reach_the_database() {
        a.runOnce();
        assertThat(a.isLeader()).isTrue();
        clockA.addAndGet(FAST.renewDeadline().toNanos() - 1);
        assertThat(a.isLeader()).isTrue();
        clockA.addAndGet(1);
        assertThat(a.isLeader()).as("renew deadline passed without a renewal").isFalse();
        assertThat(a.token()).isEmpty();
        assertThatThrownBy(() -> fencedWrite(storeA, a, "after-deadline")).isInstanceOf(LeaseLostException.class)
                .hasMessageContaining("no longer leads");
    }

    @Test
    void a_graceful_stop_releases_the_lease_and_the_other_replica_takes_over_at_once_with_a_higher_token() {
        a.runOnce();
        b.runOnce();
        assertThat(b.isLeader()).isFalse();
        a.close();
        b.runOnce();
        assertThat(b.isLeader()).as("no wait for the lease to run out").isTrue();
        assertThat(b.token()).hasValue(2);
    }

    @Test
    void the_timing_must_let_a_leader_stop_before_its_lease_can_pass() {
        assertThatThrownBy(() -> new LeaseSettings(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("renew-deadline-ms (5000) must be at least 100 and less than duration-ms (5000)");
        assertThatThrownBy(() -> new LeaseSettings(Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofSeconds(3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retry-ms (3000) must be at least 10 and less than renew-deadline-ms (3000)");
        assertThat(LeaseSettings.defaults()).isEqualTo(new LeaseSettings(Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofSeconds(1)));
    }

    @Test
    void sqlite_has_no_lease_the_single_node_leads_without_a_token() throws Exception {
        try (CloudStore sqlite = CloudStore.open(dir.resolve("single"))) {
            assertThatThrownBy(() -> new LeaderLease(sqlite, "control-plane", "x", FAST, System::nanoTime))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs PostgreSQL");
        }
        assertThat(Leadership.SINGLE.isLeader()).isTrue();
        assertThat(Leadership.SINGLE.token()).isEmpty();
    }
}
