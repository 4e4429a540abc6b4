package io.edgefleet.cloud.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * A check run first inside a transaction that only the current control-plane leader may commit
 * (issue 18): it throws when the caller no longer holds the fencing token it believes it holds,
 * so the transaction rolls back with nothing written. {@link #NONE} checks nothing (a single node,
 * or an operator's action that any replica may take).
 */
@FunctionalInterface
public interface Fence {
    Fence NONE = c -> { };

    /**
     * Checks, on the transaction's connection, that the write may go ahead.
     *
     * @throws io.edgefleet.cloud.lease.LeaseLostException the leadership is lost (not retried)
     */
    void check(Connection c) throws SQLException;
}
