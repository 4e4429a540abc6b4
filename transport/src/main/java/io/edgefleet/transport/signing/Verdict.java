package io.edgefleet.transport.signing;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * The outcome of checking one message's sender.
 *
 * @param refusal empty when the sender is proven
 * @param detail a sentence for logs and acknowledgements naming the thing and the rule; never key material
 * @param sequence the command sequence of an accepted command; empty otherwise
 */
public record Verdict(Optional<Refusal> refusal, String detail, OptionalLong sequence) {
    public static Verdict accepted(OptionalLong sequence) {
        return new Verdict(Optional.empty(), "", sequence);
    }

    public static Verdict refused(Refusal r, String detail) {
        return new Verdict(Optional.of(r), detail, OptionalLong.empty());
    }

    public boolean isAccepted() {
        return refusal.isEmpty();
    }
}
