// The admin GraphQL types of fan-out, one file per type; the module's index.ts imports this file.
import './delivery.ts';
import './subscription.ts';
