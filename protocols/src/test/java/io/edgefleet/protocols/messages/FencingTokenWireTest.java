package io.edgefleet.protocols.messages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.protocols.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The fencing token of control-plane replicas (issue 18) on the wire: optional, positive, copied into acks. */
class FencingTokenWireTest {
    private final MessageCodec json = MessageCodec.json();
    private final Instant at = Instant.parse("2026-11-30T12:00:00Z");

    @Test
    void a_command_carries_its_token_as_fencingToken_and_one_without_leaves_it_out() {
        Command c = Command.deploy("c1", "ro-1", "kws", "2", true, at).withFencingToken(7);
        String wire = new String(json.encode(c), StandardCharsets.UTF_8);
        assertThat(wire).contains("\"fencingToken\":7");
        assertThat(json.decode(wire.getBytes(StandardCharsets.UTF_8), Command.class)).isEqualTo(c);
        Command plain = Command.deploy("c1", "ro-1", "kws", "2", true, at);
        assertThat(new String(json.encode(plain), StandardCharsets.UTF_8)).doesNotContain("fencingToken");
        assertThat(json.decode(json.encode(plain), Command.class).fencingToken()).isEmpty();
    }

    @Test
    void a_token_below_one_is_refused_naming_the_field() {
        String good = new String(json.encode(Command.deploy("c1", "ro-1", "kws", "2", true, at)), StandardCharsets.UTF_8);
        byte[] bad = (good.substring(0, good.length() - 1) + ",\"fencingToken\":0}").getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> json.decode(bad, Command.class)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("fencingToken").hasMessageContaining("must be positive, got 0");
    }

    @Test
    void stale_means_lower_than_the_highest_seen_and_a_command_without_a_token_is_never_stale() {
        Command c = Command.deploy("c1", "ro-1", "kws", "2", true, at).withFencingToken(3);
        assertThat(c.staleFor(0)).isFalse();
        assertThat(c.staleFor(3)).isFalse();
        assertThat(c.staleFor(4)).isTrue();
        assertThat(Command.deploy("c1", "ro-1", "kws", "2", true, at).staleFor(100)).isFalse();
    }

    @Test
    void acks_copy_the_commands_token_and_a_stale_refusal_is_recognisable() {
        Command c = Command.rollback("c2", "ro-1", "kws", at).withFencingToken(2);
        CommandAck refused = CommandAck.failed(c, "d1", new AckError(Command.STALE_CODE, "stale"), at);
        assertThat(refused.fencingToken()).hasValue(2);
        assertThat(refused.staleRefusal()).isTrue();
        assertThat(json.decode(json.encode(refused), CommandAck.class)).isEqualTo(refused);
        assertThat(CommandAck.of(c, "d1", AckPhase.RECEIVED, at).staleRefusal()).isFalse();
    }
}
