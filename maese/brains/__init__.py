"""SpeechBrain ``Brain`` subclasses for the recipe stages."""
