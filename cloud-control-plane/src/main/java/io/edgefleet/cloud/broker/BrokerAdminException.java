package io.edgefleet.cloud.broker;

/**
 * A change at the broker (a grant or a revocation) did not take effect: the broker was unreachable,
 * did not answer in time, or answered with an error. Retriable: the change is idempotent.
 */
public final class BrokerAdminException extends RuntimeException {
    public BrokerAdminException(String message) {
        super(message);
    }

    public BrokerAdminException(String message, Throwable cause) {
        super(message, cause);
    }
}
