package io.edgefleet.cloud.broker;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.protocols.topics.TopicRights;
import io.edgefleet.protocols.topics.TopicRights.Rule;
import io.edgefleet.transport.pki.Identity;
import java.util.Collection;

/**
 * The JSON of Mosquitto's dynamic-security plugin (mosquitto 2.0, {@code mosquitto_dynamic_security.so}):
 * its configuration file and its {@code $CONTROL/dynamic-security/v1} commands, with each identity's
 * rights taken from {@link TopicRights}. One client per identity (user name = certificate CN), one role
 * per identity holding its ACLs: Mosquitto 2.0.11 does not expand {@code %u} in dynamic-security ACLs
 * (checked), so the rights are written out per identity. Stateless.
 */
final class DynsecJson {
    /** The identity (certificate CN) that manages the plugin; it has no other right. */
    static final String ADMIN = "broker-admin";
    static final String ADMIN_ROLE = "edgefleet-broker-admin";
    static final String CONTROL_TOPIC = "$CONTROL/dynamic-security/v1";
    static final String RESPONSE_TOPIC = CONTROL_TOPIC + "/response";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private DynsecJson() {
    }

    static String roleName(Identity identity) {
        return "edgefleet:" + identity.commonName();
    }

    /**
     * The plugin's configuration file: nothing allowed by default (no publish, no delivery, no
     * subscription), the admin client, and a client and role for each of {@code identities}.
     */
    static String config(Collection<Identity> identities) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode defaults = root.putObject("defaultACLAccess");
        defaults.put("publishClientSend", false);
        defaults.put("publishClientReceive", false);
        defaults.put("subscribe", false);
        defaults.put("unsubscribe", true);
        ArrayNode clients = root.putArray("clients");
        ArrayNode roles = root.putArray("roles");
        root.putArray("groups");
        clients.addObject().put("username", ADMIN).putArray("roles").addObject().put("rolename", ADMIN_ROLE);
        ObjectNode admin = roles.addObject().put("rolename", ADMIN_ROLE);
        ArrayNode adminAcls = admin.putArray("acls");
        for (String type : new String[] {"publishClientSend", "publishClientReceive", "subscribePattern"}) {
            adminAcls.addObject().put("acltype", type).put("topic", "$CONTROL/dynamic-security/#").put("allow", true);
        }
        for (Identity id : identities) {
            clients.addObject().put("username", id.commonName()).putArray("roles").addObject().put("rolename", roleName(id));
            ObjectNode role = roles.addObject().put("rolename", roleName(id));
            role.set("acls", acls(id));
        }
        return root.toPrettyString();
    }

    /**
     * Commands granting {@code identity} its rights: its role, then its client. Either may already exist
     * (a device renewing its certificate keeps its identity); the plugin then answers "already exists",
     * which the caller treats as done, and a connected session is left alone.
     */
    static String grant(Identity identity, String correlation) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode cmds = root.putArray("commands");
        ObjectNode role = cmds.addObject().put("command", "createRole").put("rolename", roleName(identity));
        role.set("acls", acls(identity));
        role.put("correlationData", correlation);
        cmds.addObject().put("command", "createClient").put("username", identity.commonName()).put("correlationData", correlation)
                .putArray("roles").addObject().put("rolename", roleName(identity));
        return root.toString();
    }

    /** Commands removing {@code identity}: deleting the client disconnects its sessions at once. */
    static String revoke(Identity identity, String correlation) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode cmds = root.putArray("commands");
        cmds.addObject().put("command", "deleteClient").put("username", identity.commonName()).put("correlationData", correlation);
        cmds.addObject().put("command", "deleteRole").put("rolename", roleName(identity)).put("correlationData", correlation);
        return root.toString();
    }

    private static ArrayNode acls(Identity identity) {
        ArrayNode acls = MAPPER.createArrayNode();
        for (Rule r : TopicRights.rules(identity.commonName())) {
            if (r.action() == TopicRights.Action.PUBLISH) {
                acl(acls, "publishClientSend", r.filter());
            } else {
                // subscribePattern matches the asked filter against this one as if it were a topic, so a
                // wider filter (ef/v1/+/+/cmd asked against ef/v1/F/D/cmd) is refused; delivery is checked too
                acl(acls, "subscribePattern", r.filter());
                acl(acls, "publishClientReceive", r.filter());
                if (r.shared()) {
                    // the plugin sees the whole $share/{group}/ filter (checked on 2.0.11)
                    acl(acls, "subscribePattern", "$share/+/" + r.filter());
                }
            }
        }
        return acls;
    }

    private static void acl(ArrayNode acls, String type, String topic) {
        acls.addObject().put("acltype", type).put("topic", topic).put("allow", true);
    }
}
