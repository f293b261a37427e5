// The admin GraphQL types of availability, one file per type; the module's index.ts imports this file.
import './rebuild.ts';
