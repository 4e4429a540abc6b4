package io.edgefleet.cloud.api;

import io.edgefleet.cloud.rollout.RolloutException;

/**
 * The HTTP status of each {@link RolloutException}: the only place rollout refusals meet HTTP. The
 * problem's title and detail are the exception's own (RFC 9457 problem JSON, as every API error).
 */
final class RolloutProblems {
    private RolloutProblems() {
    }

    /** The status a refusal is answered with: 404, 409, 503 (with the leader to retry on), 400 or 422. */
    static int status(RolloutException e) {
        return switch (e) {
            case RolloutException.NotFound x -> 404;
            case RolloutException.Conflict x -> 409;
            case RolloutException.NotLeader x -> 503;
            case RolloutException.InvalidSpec x -> 400;
            case RolloutException.UnusableTarget x -> 422;
        };
    }

    static ApiException of(RolloutException e) {
        return new ApiException(status(e), e.title(), e.getMessage());
    }
}
