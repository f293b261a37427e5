// The admin GraphQL types of channels, one file per type; the module's index.ts imports this file.
import './channel.ts';
import './freshness.ts';
