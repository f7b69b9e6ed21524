// The pattern's own JavaScript example (seed: circuit-breaker-pattern.md, "JavaScript Implementation"), unchanged
// except for the client's base URL, which points at the Tripswitch gateway. The gateway's circuits sit behind the
// seed's breaker: the client needs nothing else.
import OpenAI from 'openai';

const openai = new OpenAI({ baseURL: process.env.GATEWAY_URL });

class CircuitBreaker {
    constructor({
        failureThreshold = 5,
        recoveryTimeout = 60000,
        successThreshold = 2
    } = {}) {
        this.failureThreshold = failureThreshold;
        this.recoveryTimeout = recoveryTimeout;
        this.successThreshold = successThreshold;
        
        this.state = 'closed';
        this.failureCount = 0;
        this.successCount = 0;
        this.lastFailureTime = null;
    }
    
    checkState() {
        if (this.state === 'open') {
            const elapsed = Date.now() - this.lastFailureTime;
            if (elapsed >= this.recoveryTimeout) {
                this.state = 'half_open';
            }
        }
        return this.state;
    }
    
    async call(fn) {
        const currentState = this.checkState();
        
        if (currentState === 'open') {
            const remaining = this.recoveryTimeout - (Date.now() - this.lastFailureTime);
            throw new CircuitOpenError(`Circuit open. Retry in ${Math.ceil(remaining / 1000)}s`);
        }
        
        try {
            const result = await fn();
            this.recordSuccess();
            return result;
        } catch (error) {
            this.recordFailure();
            throw error;
        }
    }
    
    recordSuccess() {
        if (this.state === 'half_open') {
            this.successCount++;
            if (this.successCount >= this.successThreshold) {
                this.reset();
            }
        } else {
            this.failureCount = 0;
        }
    }
    
    recordFailure() {
        this.failureCount++;
        this.lastFailureTime = Date.now();
        
        if (this.state === 'half_open' || this.failureCount >= this.failureThreshold) {
            this.trip();
        }
    }
    
    trip() {
        this.state = 'open';
        this.successCount = 0;
    }
    
    reset() {
        this.state = 'closed';
        this.failureCount = 0;
        this.successCount = 0;
        this.lastFailureTime = null;
    }
}

class CircuitOpenError extends Error {
    constructor(message) {
        super(message);
        this.name = 'CircuitOpenError';
    }
}

// Usage
const breaker = new CircuitBreaker({
    failureThreshold: 3,
    recoveryTimeout: 30000
});

async function getCompletion(prompt) {
    return breaker.call(async () => {
        const response = await openai.chat.completions.create({
            model: 'gpt-4.1',
            messages: [{ role: 'user', content: prompt }]
        });
        return response.choices[0].message.content;
    });
}

export { getCompletion, breaker };
