package io.edgefleet.cloud.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CloudStore#tx} on a real PostgreSQL server: serializable transactions, and a transaction that PostgreSQL aborts
 * because another one changed what it read (SQLSTATE 40001) is run again from the start, never half-applied. The
 * conflict is made deterministic: the unit of work itself commits a change to its row on a second connection, after its
 * snapshot was taken and before it writes.
 */
class PostgresTransactionsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    static long lost(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT lost FROM telemetry_lost WHERE fleet = 'f' AND device = 'd'");
                ResultSet r = p.executeQuery()) {
            r.next();
            return r.getLong(1);
        }
    }

    static void setLost(Connection c, long v) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE telemetry_lost SET lost = ? WHERE fleet = 'f' AND device = 'd'")) {
            p.setLong(1, v);
            p.executeUpdate();
        }
    }

    @Test
    void transactions_are_serializable_and_one_aborted_by_a_concurrent_write_runs_again_on_the_new_value() throws Exception {
        DatabaseSettings settings = Stores.POSTGRESQL.settings(PG);
        try (CloudStore store = CloudStore.open(dir, settings);
                Connection other = DriverManager.getConnection(settings.url().orElseThrow(), settings.user().orElseThrow(), "")) {
            store.tx(c -> {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO telemetry_lost (fleet, device, lost) VALUES ('f', 'd', 1)")) {
                    p.executeUpdate();
                }
                return null;
            });
            AtomicInteger attempts = new AtomicInteger();
            String isolation = store.tx(c -> {
                int attempt = attempts.incrementAndGet();
                long seen = lost(c); // the snapshot is taken here
                if (attempt == 1) {
                    setLost(other, seen + 100); // committed by someone else in between
                }
                setLost(c, seen + 1); // attempt 1: 40001, rolled back; attempt 2 reads 101
                try (PreparedStatement p = c.prepareStatement("SHOW transaction_isolation"); ResultSet r = p.executeQuery()) {
                    r.next();
                    return r.getString(1);
                }
            });
            assertThat(isolation).isEqualTo("serializable");
            assertThat(attempts).hasValue(2);
            assertThat(store.read(PostgresTransactionsTest::lost)).as("the other write kept, this one applied once on top").isEqualTo(102);
        }
    }

    @Test
    void a_conflict_that_persists_gives_up_after_the_last_attempt_with_nothing_applied() throws Exception {
        DatabaseSettings settings = Stores.POSTGRESQL.settings(PG);
        try (CloudStore store = CloudStore.open(dir, settings);
                Connection other = DriverManager.getConnection(settings.url().orElseThrow(), settings.user().orElseThrow(), "")) {
            store.tx(c -> {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO telemetry_lost (fleet, device, lost) VALUES ('f', 'd', 0)")) {
                    p.executeUpdate();
                }
                return null;
            });
            AtomicInteger attempts = new AtomicInteger();
            assertThatThrownBy(() -> store.tx(c -> {
                attempts.incrementAndGet();
                long seen = lost(c);
                setLost(other, seen + 10);
                setLost(c, -1);
                return null;
            })).isInstanceOf(StoreException.class).hasMessageContaining("could not serialize access");
            assertThat(attempts).hasValue(CloudStore.MAX_ATTEMPTS);
            assertThat(store.read(PostgresTransactionsTest::lost)).as("only the other connection's writes").isEqualTo(10L * CloudStore.MAX_ATTEMPTS);
        }
    }
}
