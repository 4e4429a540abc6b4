package io.edgefleet.transport.pki;

import io.edgefleet.protocols.Checks;
import java.util.Objects;
import java.util.Optional;

/**
 * Who a certificate names: a device ({@code fleet} and {@code device}) or a service of the control
 * plane. The certificate's subject common name (CN) is the whole identity: {@code fleet/device} for
 * a device, a bare name without a slash for a service (e.g. {@code cloud-control}), so the two can
 * never collide. Mosquitto's {@code use_identity_as_username} makes the CN the MQTT username.
 *
 * @param fleet the fleet id ({@link Checks#ID}) of a device; empty for a service
 * @param name the device id of a device, or the service name ({@link Checks#ID})
 */
public record Identity(Optional<String> fleet, String name) {
    /** The organisation (O) of every certificate the EdgeFleet CA issues. */
    public static final String ORGANISATION = "EdgeFleet";

    public Identity {
        Objects.requireNonNull(fleet, "fleet");
        fleet.ifPresent(f -> Checks.id(f, "fleet"));
        Checks.id(name, fleet.isPresent() ? "device" : "service");
    }

    public static Identity device(String fleet, String device) {
        return new Identity(Optional.of(fleet), device);
    }

    public static Identity service(String name) {
        return new Identity(Optional.empty(), name);
    }

    public boolean isDevice() {
        return fleet.isPresent();
    }

    /** The subject common name: {@code fleet/device} or the service name. */
    public String commonName() {
        return fleet.map(f -> f + "/" + name).orElse(name);
    }

    /**
     * Parses a common name written by {@link #commonName()}.
     *
     * @throws IllegalArgumentException when it is neither {@code fleet/device} nor a service name
     */
    public static Identity parse(String commonName) {
        Objects.requireNonNull(commonName, "commonName");
        int slash = commonName.indexOf('/');
        try {
            return slash < 0 ? service(commonName) : device(commonName.substring(0, slash), commonName.substring(slash + 1));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not an EdgeFleet identity: '" + commonName + "' (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public String toString() {
        return commonName();
    }
}
