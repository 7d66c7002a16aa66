// Fails the run unless the tests really render with React 18: the point of this project.
import { version as reactVersion } from "react";
import { version as domVersion } from "react-dom";

if (!reactVersion.startsWith("18.") || !domVersion.startsWith("18.")) {
  throw new Error(`expected React 18, got react ${reactVersion} and react-dom ${domVersion}`);
}
