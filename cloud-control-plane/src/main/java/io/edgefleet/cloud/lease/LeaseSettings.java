package io.edgefleet.cloud.lease;

import java.time.Duration;

/**
 * Leader-lease timing for control-plane replicas on one PostgreSQL database (node
 * {@code cloud.database.lease}; ignored on SQLite, where the single node always leads).
 *
 * <p>The leader renews every {@code retry}; it stops acting as leader (no command, no fenced
 * write) once {@code renewDeadline} has passed, on its own monotonic clock, since the start of
 * its last successful renewal. The lease row expires {@code duration} after that renewal, on the
 * database's clock; another replica, trying every {@code retry}, takes it over with the next
 * fencing token after that. So a killed leader is replaced within {@code duration + retry}
 * (6 s with the defaults), and a leader that cannot renew has stopped
 * {@code duration - renewDeadline} (2 s) before anyone else may start.
 *
 * @param duration how long a renewal keeps the lease, 1 s .. 10 min ({@code duration-ms}, default 5000)
 * @param renewDeadline how long the leader acts after its last successful renewal; less than {@code duration}
 *     ({@code renew-deadline-ms}, default 3000)
 * @param retry how often the leader renews and a follower tries to take an expired lease; less than
 *     {@code renewDeadline} ({@code retry-ms}, default 1000)
 */
public record LeaseSettings(Duration duration, Duration renewDeadline, Duration retry) {
    public LeaseSettings {
        if (duration.toMillis() < 1000 || duration.toMillis() > 600_000) {
            throw new IllegalArgumentException("database.lease.duration-ms must be 1000..600000, got " + duration.toMillis());
        }
        if (renewDeadline.compareTo(duration) >= 0 || renewDeadline.toMillis() < 100) {
            throw new IllegalArgumentException("database.lease.renew-deadline-ms (" + renewDeadline.toMillis()
                    + ") must be at least 100 and less than duration-ms (" + duration.toMillis()
                    + "): a leader must stop before its lease can pass to another replica");
        }
        if (retry.compareTo(renewDeadline) >= 0 || retry.toMillis() < 10) {
            throw new IllegalArgumentException("database.lease.retry-ms (" + retry.toMillis() + ") must be at least 10 and less than "
                    + "renew-deadline-ms (" + renewDeadline.toMillis() + "): the leader must get at least one renewal in before its deadline");
        }
    }

    public static LeaseSettings defaults() {
        return new LeaseSettings(Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofSeconds(1));
    }
}
