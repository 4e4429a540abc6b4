package io.edgefleet.sync.client;

/**
 * The sync server refused the device's credentials (HTTP 401 or 403): not retriable, and not a
 * verification failure of what was downloaded (nothing was).
 */
public final class SyncUnauthorizedException extends SyncException {
    private static final long serialVersionUID = 1L;

    public SyncUnauthorizedException(String message) {
        super(message, false, null);
    }
}
