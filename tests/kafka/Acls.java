// Creates the test cluster's ACLs in one admin request (one JVM, instead of one kafka-acls run per
// principal and resource): run in source-file mode, `java -cp 'LIB/*' Acls.java BOOTSTRAP`, with
// one ACL a line on stdin: principal, resource type, pattern type, resource name, operation
// (tab-separated). aiokafka cannot do this: it speaks only CreateAcls v0-v1, which Kafka 4 removed.
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Scanner;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class Acls {
    public static void main(String[] args) throws Exception {
        List<AclBinding> bindings = new ArrayList<>();
        Scanner lines = new Scanner(System.in);
        while (lines.hasNextLine()) {
            String line = lines.nextLine();
            if (line.isBlank()) {
                continue;
            }
            String[] field = line.split("\t");
            ResourcePattern resource = new ResourcePattern(
                ResourceType.fromString(field[1]), field[3], PatternType.fromString(field[2]));
            AccessControlEntry entry = new AccessControlEntry(
                field[0], "*", AclOperation.fromString(field[4]), AclPermissionType.ALLOW);
            bindings.add(new AclBinding(resource, entry));
        }
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        try (Admin admin = Admin.create(config)) {
            admin.createAcls(bindings).all().get();
        }
        System.out.println("created " + bindings.size() + " ACLs");
    }
}
