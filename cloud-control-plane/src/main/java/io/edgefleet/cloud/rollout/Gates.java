package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.fleet.DeviceRecord;
import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.rollout.RolloutStore.DeviceRow;
import io.edgefleet.cloud.rollout.RolloutStore.RolloutRow;
import io.edgefleet.cloud.store.Aggregate;
import io.edgefleet.cloud.store.TelemetryRepository;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Gate evaluation: the telemetry of the wave's devices on the new version, since they activated,
 * against a baseline of the rollout's devices still on the previous version over the same window;
 * install failures and devices gone stale or offline after updating. A telemetry gate is judged
 * only once {@code minDevices} wave devices have reported; install and stale gates always are.
 */
final class Gates {
    private Gates() {
    }

    /** The outcome: failed (with the first failing gate as reason), judged, and every value. */
    record Result(boolean failed, boolean judged, String reason, Map<String, Object> detail) {
    }

    static Result evaluate(RolloutSpec spec, RolloutRow r, List<DeviceRow> all, List<DeviceRow> wave, TelemetryRepository telemetry,
            FleetRegistry fleet, Instant now) {
        RolloutSpec.Gates g = spec.gatesOrDefault();
        Map<String, Object> d = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        long installFailures = all.stream().filter(x -> x.state().equals("failed") || x.state().equals("timed-out")).count();
        d.put("installFailures", installFailures);
        g.maxInstallFailures().ifPresent(max -> {
            if (installFailures > max) {
                failures.add("install failures " + installFailures + " > " + max + " ("
                        + all.stream().filter(x -> x.error().isPresent() && !x.state().equals("activated")).map(x -> x.key() + ": " + x.error().get())
                                .findFirst().orElse("") + ")");
            }
        });
        List<DeviceRow> activated = wave.stream().filter(x -> x.state().equals("activated") && x.fromVersion().map(v -> !v.equals(r.version()))
                .orElse(true)).toList();
        Duration staleAfter = fleet.staleAfter();
        long stale = activated.stream().map(x -> fleet.get(x.fleet(), x.device())).flatMap(Optional::stream)
                .filter(x -> x.status(now, staleAfter) == DeviceRecord.Status.STALE || x.status(now, staleAfter) == DeviceRecord.Status.OFFLINE)
                .count();
        d.put("staleAfterUpdate", stale);
        g.maxStale().ifPresent(max -> {
            if (stale > max) {
                failures.add(stale + " updated device(s) stale or offline > " + max);
            }
        });
        Instant from = r.createdAt().minus(telemetry.bucket());
        Instant to = now.plus(telemetry.bucket());
        Aggregate w = telemetry.devicesTotal(r.model(), r.version(), activated.stream().map(DeviceRow::key).toList(), from, to);
        Map<String, Long> baseVersions = all.stream().filter(x -> x.state().equals("pending") && x.fromVersion().isPresent())
                .collect(Collectors.groupingBy(x -> x.fromVersion().get(), Collectors.counting()));
        Optional<String> baseVersion = baseVersions.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey);
        Optional<Aggregate> base = baseVersion.map(v -> telemetry.devicesTotal(r.model(), v, all.stream()
                .filter(x -> x.state().equals("pending") && x.fromVersion().equals(Optional.of(v))).map(DeviceRow::key).toList(), from, to))
                .filter(a -> a.count() > 0);
        int minDevices = g.minDevices().orElse(1);
        boolean judged = w.devices() >= minDevices && w.count() >= g.minRequests().orElse(0);
        d.put("reportingDevices", w.devices());
        d.put("requests", w.count());
        d.put("errorRate", w.errorRate());
        d.put("p95Ms", w.p95Ms());
        w.meanConfidence().ifPresent(c -> d.put("meanConfidence", c));
        d.put("escalationShare", w.escalationRate());
        d.put("nonFiniteRate", w.nonFiniteRate());
        d.put("clientErrorRate", w.clientErrorRate());
        base.ifPresent(b -> {
            d.put("baselineVersion", baseVersion.get());
            d.put("baselineDevices", b.devices());
            d.put("baselineErrorRate", b.errorRate());
            d.put("baselineP95Ms", b.p95Ms());
            b.meanConfidence().ifPresent(c -> d.put("baselineMeanConfidence", c));
        });
        if (judged && w.count() > 0) {
            g.maxErrorRate().ifPresent(max -> check(failures, w.errorRate() > max, "error rate %.4f > %.4f", w.errorRate(), max));
            g.maxNonFiniteRate().ifPresent(max -> check(failures, w.nonFiniteRate() > max, "non-finite outputs %.4f of answers > %.4f",
                    w.nonFiniteRate(), max));
            g.maxEscalationShare().ifPresent(max -> check(failures, w.escalationRate() > max, "escalated share %.4f > %.4f",
                    w.escalationRate(), max));
            base.ifPresent(b -> {
                g.maxErrorRateIncrease().ifPresent(max -> check(failures, w.errorRate() - b.errorRate() > max,
                        "error rate %.4f is %.4f over the baseline's %.4f (max %.4f)", w.errorRate(), w.errorRate() - b.errorRate(), b.errorRate(), max));
                g.maxP95Ratio().ifPresent(max -> {
                    if (b.p95Ms() > 0) {
                        double ratio = w.p95Ms() / b.p95Ms();
                        d.put("p95Ratio", ratio);
                        check(failures, ratio > max, "p95 latency %.3f ms is %.2fx the baseline's %.3f ms (max %.2fx)", w.p95Ms(), ratio, b.p95Ms(), max);
                    }
                });
                g.maxClientErrorRateIncrease().ifPresent(max -> ClientErrorGate.check(max, g.minRequests().orElse(0), w, b, d)
                        .ifPresent(failures::add));
                g.maxConfidenceDrop().ifPresent(max -> {
                    if (w.meanConfidence().isPresent() && b.meanConfidence().isPresent()) {
                        double drop = b.meanConfidence().getAsDouble() - w.meanConfidence().getAsDouble();
                        d.put("confidenceDrop", drop);
                        check(failures, drop > max, "mean confidence dropped %.3f below the baseline's %.3f (max %.3f)", drop,
                                b.meanConfidence().getAsDouble(), max);
                    }
                });
            });
        }
        d.put("judged", judged);
        d.put("failures", failures);
        return new Result(!failures.isEmpty(), judged || w.count() == 0 && activated.isEmpty(), failures.isEmpty() ? "" : failures.get(0), d);
    }

    private static void check(List<String> failures, boolean failed, String format, Object... args) {
        if (failed) {
            failures.add(String.format(java.util.Locale.ROOT, format, args));
        }
    }

    static Comparator<DeviceRow> byRank() {
        return Comparator.comparing(DeviceRow::rank);
    }
}
