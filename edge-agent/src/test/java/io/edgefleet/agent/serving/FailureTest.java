package io.edgefleet.agent.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.slots.ModelNotServedException;
import io.edgefleet.engines.EngineBusyException;
import io.edgefleet.engines.InferenceFailedException;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.protocols.ProtocolException;
import org.junit.jupiter.api.Test;

/** The one exception-to-status table: who caused a failure, and that no runtime text reaches the client. */
class FailureTest {
    private static final IllegalStateException ORT = new IllegalStateException(
            "Non-zero status code returned while running Conv node. Name:'If_0_else_branch__Inline_0__/stft/Conv'");

    @Test
    void client_mistakes_are_4xx_and_recognisable_as_such() {
        Failure refused = Failure.of(new InvalidInputException(InvalidInputException.Rule.REFUSED_BY_RUNTIME,
                "model 'vad' cannot compute inputs of shapes input [1,100]", ORT));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.message()).isEqualTo("model 'vad' cannot compute inputs of shapes input [1,100]");
        assertThat(refused.clientCaused()).isTrue();
        assertThat(Failure.of(new ProtocolException("$", "malformed input")).clientCaused()).isTrue();
        assertThat(Failure.of(new ModelNotServedException("model 'x' is not served here")).status()).isEqualTo(404);
        assertThat(Failure.causedByClient(new InvalidInputException(InvalidInputException.Rule.EMPTY, "empty"))).isTrue();
        assertThat(Failure.causedByClient(new ProtocolException("$", "bad"))).isTrue();
        assertThat(Failure.causedByClient(new ModelNotServedException("nope"))).isTrue();
    }

    @Test
    void model_failures_and_overload_are_not_the_clients_and_keep_runtime_text_out_of_the_body() {
        Failure failed = Failure.of(new InferenceFailedException("model 'm': the runtime failed on inputs of shapes x [1,4]", ORT));
        assertThat(failed.status()).isEqualTo(500);
        assertThat(failed.message()).doesNotContain("node", "Conv", "If_0");
        assertThat(failed.clientCaused()).isFalse();
        assertThat(Failure.causedByClient(new InferenceFailedException("m", ORT))).isFalse();
        Failure full = Failure.of(new OverloadedException("queue full", true));
        assertThat(full.status()).isEqualTo(429);
        assertThat(full.clientCaused()).as("a full queue is not the client's mistake").isFalse();
        assertThat(Failure.of(new EngineBusyException("busy")).clientCaused()).isFalse();
        Failure unexpected = Failure.of(new IllegalStateException("secret internals"));
        assertThat(unexpected).isEqualTo(new Failure(500, "internal error", false));
        assertThat(Failure.causedByClient(new IllegalStateException("x"))).isFalse();
    }
}
