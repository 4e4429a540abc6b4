package io.edgefleet.cloud.lease;

/**
 * A replica that believed it led found, inside a write's transaction, that the lease now carries
 * another fencing token (or that its own lease ran out): the write is rolled back and not retried.
 * The replica stops issuing commands until it wins the lease again.
 */
public final class LeaseLostException extends RuntimeException {
    public LeaseLostException(String message) {
        super(message);
    }
}
