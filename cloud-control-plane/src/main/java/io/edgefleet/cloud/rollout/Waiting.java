package io.edgefleet.cloud.rollout;

import java.util.Optional;

/**
 * One thing a running rollout waits for, as {@code waitingFor} in its status.
 *
 * @param condition {@code devices} (none matches the selector yet), {@code install} (devices of the
 *        wave not yet activated, failed or timed out), {@code bake}, {@code telemetry} (evidence a gate
 *        needs), {@code confirmation} (a noisy gate violated on fewer consecutive evaluations than it
 *        needs to fail) or {@code operator} (paused)
 * @param gate the gate or setting behind it ({@code minDevices}, {@code maxP95Ratio}...), if any
 * @param have what there is (devices, requests, evaluations)
 * @param need what is needed
 * @param missing {@code need - have}, never negative
 * @param leftMillis time until the wait ends by itself (bake left, or telemetry-wait limit left), if it does
 * @param detail one human sentence
 */
public record Waiting(String condition, Optional<String> gate, long have, long need, long missing, Optional<Long> leftMillis, String detail) {
    public Waiting(String condition, Optional<String> gate, long have, long need, Optional<Long> leftMillis, String detail) {
        this(condition, gate, have, need, Math.max(0, need - have), leftMillis, detail);
    }

    Waiting withLeftMillis(long left) {
        return new Waiting(condition, gate, have, need, missing, Optional.of(Math.max(0, left)), detail);
    }
}
