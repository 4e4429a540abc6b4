package io.edgefleet.cloud.store;

import java.sql.SQLException;

/** A database failure: the API answers 500 with the message, nothing partial is committed. */
public final class StoreException extends RuntimeException {
    public StoreException(SQLException cause) {
        super("database error: " + cause.getMessage(), cause);
    }
}
