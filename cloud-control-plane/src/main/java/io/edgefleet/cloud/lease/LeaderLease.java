package io.edgefleet.cloud.lease;

import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Fence;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Leader election of control-plane replicas on one PostgreSQL database: a lease row
 * ({@code leader_leases}, one per {@code name}) with a holder, an expiry on the database's clock and
 * a fencing token that grows by one at every change of holder.
 *
 * <p>Protocol (each step one atomic statement; times from {@code clock_timestamp()} of the
 * database, so the replicas' clocks need not agree):
 * <ul>
 * <li><b>acquire</b>: insert the row, or take it over when it has expired, with {@code token + 1};
 * <li><b>renew</b>: push the expiry {@link LeaseSettings#duration()} ahead, only while this holder
 *     still holds this token and the lease has not expired (an expired lease is acquired again, with
 *     a new token, even by the same process);
 * <li><b>release</b> ({@link #close}): expire the row at once, so a graceful stop hands over within
 *     one {@link LeaseSettings#retry()}.
 * </ul>
 * The holder acts as leader only until {@link LeaseSettings#renewDeadline()} after the start of its
 * last successful attempt, measured on its own monotonic clock; that deadline is shorter than the
 * lease, so it has stopped before the row can expire for the others. Writes that must not land
 * after a takeover check the token in their own transaction ({@link #fence()}: the row is read
 * {@code FOR SHARE}, so a takeover waits for the write's commit or the write sees the new token),
 * and commands carry the token so agents refuse a deposed leader's late ones.
 *
 * <p>Threads: one named daemon thread ({@code leader-lease}) runs {@link #runOnce()} every
 * {@link LeaseSettings#retry()} and logs each gain and loss of the lead; every other method may be called
 * from any thread.
 */
public final class LeaderLease implements Leadership, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LeaderLease.class.getName());
    /** The database's clock in epoch milliseconds. */
    static final String NOW_MS = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

    private final CloudStore store;
    private final String name;
    private final String holder;
    private final LeaseSettings settings;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "leader-lease");
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((th, e) -> LOG.log(System.Logger.Level.ERROR, "leader lease loop failed", e));
        return t;
    });
    /** The token held (0: none). */
    private volatile long token;
    /** {@link #nanoTime} value until which this process may act as leader. */
    private volatile long validUntilNanos;
    private volatile Observed observed = new Observed(Optional.empty(), 0, 0);
    private boolean reported;

    /**
     * What this replica last read of the lease row.
     *
     * @param holder the holder named in the row (empty before any replica took it)
     * @param token the row's fencing token (0 before any)
     * @param expiresInMillis how long until the row expires, on the database's clock (negative: expired)
     */
    public record Observed(Optional<String> holder, long token, long expiresInMillis) {
    }

    /**
     * @param store a PostgreSQL store (the lease needs concurrent connections; SQLite uses {@link Leadership#SINGLE})
     * @param name the lease, e.g. {@code control-plane}
     * @param holder this process, unique among replicas and restarts (e.g. the instance id and a random suffix)
     * @param nanoTime the monotonic clock for the renew deadline ({@code System::nanoTime}; a test steps its own)
     */
    public LeaderLease(CloudStore store, String name, String holder, LeaseSettings settings, LongSupplier nanoTime) {
        if (store.kind() != io.edgefleet.cloud.store.DatabaseSettings.Kind.POSTGRESQL) {
            throw new IllegalArgumentException("a leader lease needs PostgreSQL; a single SQLite node always leads (Leadership.SINGLE)");
        }
        this.store = store;
        this.name = name;
        this.holder = holder;
        this.settings = settings;
        this.nanoTime = nanoTime;
    }

    /** Runs {@link #runOnce()} now and then every {@link LeaseSettings#retry()} on the {@code leader-lease} thread. */
    public LeaderLease start() {
        loop.scheduleWithFixedDelay(this::runOnce, 0, settings.retry().toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    private boolean followAnnounced;

    /** One renewal (when holding) or acquisition attempt, then a read of the row. A database error is logged; the deadline then runs out on its own. */
    public synchronized void runOnce() {
        long start = nanoTime.getAsLong();
        try {
            if (token != 0 && !renew()) {
                LOG.log(System.Logger.Level.WARNING, "replica {0}: lease {1} token {2} could not be renewed (expired or taken over)",
                        holder, name, token);
                token = 0;
            }
            if (token == 0) {
                OptionalLong won = acquire();
                if (won.isPresent()) {
                    token = won.getAsLong();
                }
            }
            if (token != 0) {
                validUntilNanos = start + settings.renewDeadline().toNanos();
            }
            observed = read();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "replica {0}: lease {1}: {2}", holder, name, e.getMessage());
        }
        boolean now = isLeader();
        if (!now && !followAnnounced) { // a follower says so once at start (it said nothing until it took over)
            followAnnounced = true;
            Observed o = observed;
            LOG.log(System.Logger.Level.INFO, "replica {0} follows (lease {1} held by {2}, fencing token {3}): it serves the API, "
                    + "and takes over the rollouts if the leader stops renewing", holder, name, o == null ? "?" : o.holder().orElse("nobody"),
                    o == null ? 0 : o.token());
        }
        if (now != reported) {
            reported = now;
            LOG.log(System.Logger.Level.INFO, now ? "replica {0} leads (lease {1}, fencing token {2})" : "replica {0} no longer leads (lease {1}, token {2})",
                    holder, name, now ? token : observed.token());
        }
    }

    private OptionalLong acquire() {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO leader_leases (name, holder, token, renewed_at, expires_at) "
                    + "VALUES (?, ?, 1, " + NOW_MS + ", " + NOW_MS + " + ?) ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, "
                    + "token = leader_leases.token + 1, renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at "
                    + "WHERE leader_leases.expires_at < EXCLUDED.renewed_at RETURNING token")) {
                p.setString(1, name);
                p.setString(2, holder);
                p.setLong(3, settings.duration().toMillis());
                try (ResultSet r = p.executeQuery()) {
                    return r.next() ? OptionalLong.of(r.getLong(1)) : OptionalLong.empty();
                }
            }
        });
    }

    private boolean renew() {
        long held = token;
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE leader_leases SET renewed_at = " + NOW_MS + ", expires_at = " + NOW_MS
                    + " + ? WHERE name = ? AND holder = ? AND token = ? AND expires_at >= " + NOW_MS)) {
                p.setLong(1, settings.duration().toMillis());
                p.setString(2, name);
                p.setString(3, holder);
                p.setLong(4, held);
                return p.executeUpdate() == 1;
            }
        });
    }

    private Observed read() {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT holder, token, expires_at - " + NOW_MS + " FROM leader_leases WHERE name = ?")) {
                p.setString(1, name);
                try (ResultSet r = p.executeQuery()) {
                    return r.next() ? new Observed(Optional.of(r.getString(1)), r.getLong(2), r.getLong(3)) : new Observed(Optional.empty(), 0, 0);
                }
            }
        });
    }

    @Override
    public boolean isLeader() {
        return token != 0 && nanoTime.getAsLong() - validUntilNanos < 0;
    }

    @Override
    public OptionalLong token() {
        long t = token;
        return t != 0 && isLeader() ? OptionalLong.of(t) : OptionalLong.empty();
    }

    /** This process's holder id. */
    public String holder() {
        return holder;
    }

    /** The lease row as last read (every {@link LeaseSettings#retry()}). */
    public Observed observed() {
        return observed;
    }

    public LeaseSettings settings() {
        return settings;
    }

    @Override
    public Fence fence() {
        long held = token;
        return c -> {
            if (held == 0 || !isLeader() || token != held) {
                throw new LeaseLostException("replica " + holder + " no longer leads (lease " + name + ", token " + held + ")");
            }
            try (PreparedStatement p = c.prepareStatement("SELECT token, holder FROM leader_leases WHERE name = ? FOR SHARE")) {
                p.setString(1, name);
                try (ResultSet r = p.executeQuery()) {
                    boolean found = r.next();
                    if (!found || r.getLong(1) != held || !r.getString(2).equals(holder)) {
                        throw new LeaseLostException("replica " + holder + " holds fencing token " + held + " but lease " + name + " is now "
                                + (found ? "token " + r.getLong(1) + " of " + r.getString(2) : "absent") + ": write refused");
                    }
                }
            }
        };
    }

    /** Stops renewing and expires the lease at once when held, so another replica takes over within one retry. */
    @Override
    public void close() {
        loop.shutdownNow();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long held = token;
        token = 0;
        if (held != 0) {
            try {
                store.read(c -> {
                    try (PreparedStatement p = c.prepareStatement("UPDATE leader_leases SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ?")) {
                        p.setString(1, name);
                        p.setString(2, holder);
                        p.setLong(3, held);
                        return p.executeUpdate();
                    }
                });
                LOG.log(System.Logger.Level.INFO, "replica {0} released lease {1} (token {2})", holder, name, held);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "replica {0}: lease {1} not released ({2}); it expires within {3}", holder, name,
                        e.getMessage(), settings.duration());
            }
        }
    }
}
