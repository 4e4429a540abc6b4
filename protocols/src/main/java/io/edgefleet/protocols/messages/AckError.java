package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;

/**
 * Why a command failed.
 *
 * @param code a stable machine-readable code, e.g. {@code signature-invalid}
 * @param message a sentence for the operator, naming the thing and the rule
 */
public record AckError(String code, String message) {
    public AckError {
        Checks.id(code, "code");
        Checks.requiredText(message, "message");
    }
}
