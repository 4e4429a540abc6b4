package io.edgefleet.cloud.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.rollout.RolloutException;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The rollout core's refusals become the problem statuses the API has always answered with, title and detail kept. */
class RolloutProblemsTest {
    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of(new RolloutException.NotFound("ro-1"), 404, "Unknown rollout", "no rollout ro-1"),
                Arguments.of(new RolloutException.Conflict("Invalid operation", Optional.of("ro-1"), "cannot resume rollout ro-1: it is running",
                        false), 409, "Invalid operation", "cannot resume rollout ro-1: it is running"),
                Arguments.of(new RolloutException.Conflict("Concurrent change", Optional.of("ro-1"), "rollout ro-1 changed", true), 409,
                        "Concurrent change", "rollout ro-1 changed"),
                Arguments.of(new RolloutException.NotLeader("ro-1", "this replica does not run rollouts"), 503, "Not the leader",
                        "this replica does not run rollouts"),
                Arguments.of(new RolloutException.InvalidSpec("No matching devices", "selector 'x' matches no device"), 400,
                        "No matching devices", "selector 'x' matches no device"),
                Arguments.of(new RolloutException.UnusableTarget("Deprecated version", "kws/2 is deprecated"), 422, "Deprecated version",
                        "kws/2 is deprecated"));
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void each_refusal_maps_to_its_status_with_its_title_and_message(RolloutException e, int status, String title, String detail) {
        ApiException a = RolloutProblems.of(e);
        assertThat(a.status()).isEqualTo(status);
        assertThat(a.title()).isEqualTo(title);
        assertThat(a.getMessage()).isEqualTo(detail);
    }
}
