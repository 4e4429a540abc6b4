package io.edgefleet.cloud;

/**
 * Every case of {@link RegistryApiTest} on a control plane whose store is a real PostgreSQL server
 * (issue 18): uploads, signing, immutability, deprecation and listing through the same API.
 */
@OnPostgres
class RegistryApiPostgresTest extends RegistryApiTest {
}
