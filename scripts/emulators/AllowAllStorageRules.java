// A stand-in for the Storage emulator's rules runtime, whose jar cannot be downloaded offline.
// It speaks the runtime's line-JSON protocol and PERMITS EVERY REQUEST: storage.rules are not
// evaluated locally. machbot's bucket is only used with admin credentials (publish, the function),
// which bypass rules in production too; storage.rules is still deployed and denies all clients.
import java.io.*;
import java.util.regex.*;

public class AllowAllStorageRules {
  public static void main(String[] a) throws IOException {
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
    out.println("{\"id\":-1,\"status\":\"ok\"}"); // startup handshake
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    Pattern idP = Pattern.compile("\"id\"\\s*:\\s*(-?\\d+)");
    Pattern actP = Pattern.compile("\"action\"\\s*:\\s*\"([a-z_]+)\"");
    for (String l; (l = in.readLine()) != null; ) {
      Matcher m = idP.matcher(l);
      if (!m.find()) continue;
      Matcher x = actP.matcher(l);
      String r = (x.find() && x.group(1).equals("load_ruleset")) ? "{\"rulesVersion\":2}" : "{\"permit\":true}";
      out.println("{\"id\":" + m.group(1) + ",\"status\":\"ok\",\"errors\":[],\"warnings\":[],\"result\":" + r + "}");
    }
  }
}
