package io.edgefleet.cloud.fleet;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A device selector: comma-separated terms, all of which must hold.
 *
 * <pre>
 * fleet=plant-7            the device's fleet
 * tag=line-3               carries the tag (repeat for several; all required)
 * profile=raspberry-pi-4-4gb
 * model=kws                has the model active, any version
 * model=kws@1.2            has version 1.2 of kws active
 * status=online            registered | online | offline | stale
 * device=cam-12            one device id
 * </pre>
 * The empty selector matches every device.
 */
public record Selector(Optional<String> fleet, List<String> tags, Optional<String> profile, Optional<String> model,
        Optional<String> modelVersion, Optional<DeviceRecord.Status> status, Optional<String> device) {

    public static final Selector ALL = new Selector(Optional.empty(), List.of(), Optional.empty(), Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty());

    /** Parses a selector, naming the faulty term on error. */
    public static Selector parse(String text) {
        if (text == null || text.isBlank()) {
            return ALL;
        }
        Optional<String> fleet = Optional.empty();
        Optional<String> profile = Optional.empty();
        Optional<String> model = Optional.empty();
        Optional<String> version = Optional.empty();
        Optional<DeviceRecord.Status> status = Optional.empty();
        Optional<String> device = Optional.empty();
        List<String> tags = new ArrayList<>();
        for (String term : text.split(",")) {
            String t = term.strip();
            int eq = t.indexOf('=');
            if (eq <= 0 || eq == t.length() - 1) {
                throw new IllegalArgumentException("selector term '" + t + "' is not key=value (keys: fleet, tag, profile, model, status, device)");
            }
            String k = t.substring(0, eq).strip();
            String v = t.substring(eq + 1).strip();
            switch (k) {
                case "fleet" -> fleet = Optional.of(v);
                case "tag" -> tags.add(v);
                case "profile" -> profile = Optional.of(v);
                case "device" -> device = Optional.of(v);
                case "model" -> {
                    int at = v.indexOf('@');
                    model = Optional.of(at < 0 ? v : v.substring(0, at));
                    version = at < 0 ? Optional.empty() : Optional.of(v.substring(at + 1));
                }
                case "status" -> {
                    try {
                        status = Optional.of(DeviceRecord.Status.valueOf(v.toUpperCase(java.util.Locale.ROOT)));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("selector status '" + v + "' is not one of registered, online, offline, stale");
                    }
                }
                default -> throw new IllegalArgumentException("selector key '" + k + "' is not one of fleet, tag, profile, model, status, device");
            }
        }
        return new Selector(fleet, List.copyOf(tags), profile, model, version, status, device);
    }

    public boolean matches(DeviceRecord d, Instant now, Duration staleAfter) {
        return fleet.map(f -> f.equals(d.fleet())).orElse(true)
                && device.map(x -> x.equals(d.device())).orElse(true)
                && d.tags().containsAll(tags)
                && profile.map(p -> d.profile().map(p::equals).orElse(false)).orElse(true)
                && model.map(m -> modelVersion.map(v -> d.activeVersion(m).map(v::equals).orElse(false))
                        .orElse(d.activeVersion(m).isPresent())).orElse(true)
                && status.map(s -> d.status(now, staleAfter) == s).orElse(true);
    }

    @Override
    public String toString() {
        List<String> t = new ArrayList<>();
        fleet.ifPresent(f -> t.add("fleet=" + f));
        tags.forEach(x -> t.add("tag=" + x));
        profile.ifPresent(p -> t.add("profile=" + p));
        model.ifPresent(m -> t.add("model=" + m + modelVersion.map(v -> "@" + v).orElse("")));
        status.ifPresent(s -> t.add("status=" + s.wire()));
        device.ifPresent(d -> t.add("device=" + d));
        return String.join(",", t);
    }
}
