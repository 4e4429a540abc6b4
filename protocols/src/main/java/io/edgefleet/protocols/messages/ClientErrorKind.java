package io.edgefleet.protocols.messages;

import java.util.regex.Pattern;

/**
 * Why a request was refused as the client's mistake, with stable wire names for
 * {@link TelemetryRecord#clientErrors()}. A refused request is still a request; it is never a model
 * error (a model error is the engine failing on valid input).
 *
 * <p>The wire carries the kind as a lowercase string so that a newer agent may add a kind an older
 * control plane does not know: receivers accept any name matching {@link #WIRE_NAME} and count it
 * under that name.
 */
public enum ClientErrorKind {
    /** The body is not a readable request (malformed JSON, binary header, wrong content format). HTTP 400. */
    BAD_REQUEST("bad-request"),
    /** A readable request whose tensors do not fit the model's signature (name, datatype, shape, size). HTTP 400. */
    INVALID_INPUT("invalid-input"),
    /** The model, or the named version, is not served here. HTTP 404. */
    UNKNOWN_MODEL("unknown-model"),
    /** The body is over the size limit. HTTP 413. */
    PAYLOAD_TOO_LARGE("payload-too-large"),
    /** The content type or format is not one the endpoint reads. HTTP 415. */
    UNSUPPORTED_MEDIA_TYPE("unsupported-media-type"),
    /** The model's queue was full: the client should slow down. HTTP 429. */
    OVERLOADED("overloaded"),
    /** Any other 4xx refusal. */
    OTHER("other");

    /** What a kind's wire name looks like: lowercase words joined by dashes, at most 32 characters. */
    public static final Pattern WIRE_NAME = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+)*");
    /** The most kinds one record may carry. */
    public static final int MAX_KINDS = 32;

    private final String wire;

    ClientErrorKind(String wire) {
        this.wire = wire;
    }

    /** The stable lowercase name, e.g. {@code invalid-input}. */
    public String wire() {
        return wire;
    }
}
