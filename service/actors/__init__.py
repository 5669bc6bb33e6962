"""The actor catalogue seen as a whole: likely relabelings (`audit`), re-applying aliases."""
