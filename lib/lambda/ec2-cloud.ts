import { EC2Client } from "@aws-sdk/client-ec2";
import { Ec2Inventory } from "../cloud/ec2-inventory.ts";
import type { CloudInventory } from "../cloud/types.ts";

/** The EC2 checks of a function that diagnoses instances, with the container's own client. */
export function ec2Cloud(): CloudInventory {
  return new Ec2Inventory({ client: new EC2Client({}) });
}
