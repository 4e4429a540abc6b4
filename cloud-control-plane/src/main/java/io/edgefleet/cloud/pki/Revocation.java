package io.edgefleet.cloud.pki;

import io.edgefleet.transport.pki.Identity;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A device's certificates revoked at once ({@code devices revoke F/D}).
 *
 * @param identity the device
 * @param serials the serial numbers revoked by this call (those already revoked are not repeated)
 * @param at when
 * @param actor who revoked them (the operator token's name)
 */
public record Revocation(Identity identity, List<BigInteger> serials, Instant at, Optional<String> actor) {
    public Revocation {
        serials = List.copyOf(serials);
    }
}
