package io.edgefleet.protocols.oip;

import java.util.OptionalInt;

/**
 * An encoded request or response body.
 *
 * @param body the bytes to send
 * @param headerLength present when the body uses the binary tensor extension: the length of the
 *     JSON header, to be sent as {@value OipCodec#HEADER_CONTENT_LENGTH}
 */
public record Encoded(byte[] body, OptionalInt headerLength) {
    /** {@code application/json} for plain JSON, {@code application/octet-stream} with a binary tail. */
    public String contentType() {
        return headerLength.isPresent() ? "application/octet-stream" : "application/json";
    }
}
